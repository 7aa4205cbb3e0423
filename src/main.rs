use std::process::ExitCode;

fn main() -> ExitCode {
    match rtgen::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // If stderr is gone there is nobody left to tell; the exit code still says it.
            let _ = err.report(&mut std::io::stderr().lock());
            ExitCode::from(err.exit_code())
        }
    }
}
