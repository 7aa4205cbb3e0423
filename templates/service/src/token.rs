//! `<name> token`: prints a token signed with `JWT_SECRET`, for local development
//! (curl, the demo page). In production your backend signs tokens; see README.md.

use std::time::Duration;

use crate::auth::{self, Auth, Claims};
use crate::channel::ChannelName;
use crate::policy::Pattern;

pub const USAGE: &str = concat!(
    "Usage: ",
    env!("CARGO_PKG_NAME"),
    " token --sub SUB [--channels PATTERNS] [--publish PATTERNS] [--ttl DURATION]

Prints a token signed with JWT_SECRET (from the environment or .env).

Options:
  --sub SUB              the user; their personal channel is user:SUB
  --channels PATTERNS    channels the holder may subscribe to, comma-separated or repeated:
                         `*` (all), a name (`news`), or a prefix ending in `*` (`room:*`)
  --publish PATTERNS     channels the holder may publish to, same syntax
  --ttl DURATION         how long the token is valid: 90s, 15m, 1h, 7d (default 1h)
  -h, --help             print this help
"
);

/// Longest `--ttl`: a development token should not outlive the month.
const MAX_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// What to put in the token.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    pub sub: String,
    pub channels: Vec<String>,
    pub publish: Vec<String>,
    pub ttl: Duration,
}

/// `None` for `--help`.
pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Request>, String> {
    let mut sub = None;
    let mut channels = Vec::new();
    let mut publish = Vec::new();
    let mut ttl = Duration::from_secs(3600);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        if matches!(flag.as_str(), "-h" | "--help") {
            return Ok(None);
        }
        if !matches!(
            flag.as_str(),
            "--sub" | "--channels" | "--publish" | "--ttl"
        ) {
            return Err(format!(
                "token: unexpected argument {flag:?}; see `token --help`"
            ));
        }
        let value = inline
            .or_else(|| args.next())
            .ok_or_else(|| format!("token: {flag} needs a value; see `token --help`"))?;
        match flag.as_str() {
            "--sub" => sub = Some(value),
            "--channels" => channels.extend(patterns(&flag, &value)?),
            "--publish" => publish.extend(patterns(&flag, &value)?),
            _ => ttl = duration(&value)?,
        }
    }
    let sub = sub
        .filter(|sub| !sub.is_empty())
        .ok_or("token: --sub is required, as in `token --sub 42`")?;
    Ok(Some(Request {
        sub,
        channels,
        publish,
        ttl,
    }))
}

/// Checks a comma-separated list now, rather than minting a token the server refuses.
fn patterns(flag: &str, list: &str) -> Result<Vec<String>, String> {
    Pattern::parse_list(list).map_err(|e| format!("token: {flag}: {e}"))?;
    Ok(list
        .split(',')
        .map(str::trim)
        .filter(|pattern| !pattern.is_empty())
        .map(str::to_owned)
        .collect())
}

/// `90s`, `15m`, `1h`, `7d`, or plain seconds.
fn duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("token: --ttl {text:?} is not a duration such as 90s, 15m, 1h or 7d");
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 24 * 3600,
        _ => return Err(invalid()),
    };
    let seconds = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .filter(|&s| s > 0)
        .ok_or_else(invalid)?;
    let ttl = Duration::from_secs(seconds);
    if ttl > MAX_TTL {
        return Err(format!("token: --ttl {text:?} is over 30 days"));
    }
    Ok(ttl)
}

/// The signed token, and notes worth a line on stderr.
pub fn mint(request: Request, auth: &Auth) -> Result<(String, Vec<String>), String> {
    let mut notes = Vec::new();
    if auth.mode() == crate::policy::Mode::None {
        notes.push("AUTH_MODE is none: this server does not check tokens".to_owned());
    }
    if ChannelName::parse(&format!("user:{}", request.sub)).is_err() {
        notes.push(format!(
            "sub {:?} does not fit the channel-name rules (1-123 of A-Z a-z 0-9 _ : . -): \
             this user has no personal channel",
            request.sub
        ));
    }
    let now = auth::now();
    let token = auth.sign(Claims {
        sub: request.sub,
        channels: request.channels,
        publish: request.publish,
        exp: now + request.ttl.as_secs(),
        iat: now,
        iss: None,
        aud: None,
    })?;
    Ok((token, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> impl Iterator<Item = String> {
        list.iter()
            .map(|&arg| arg.to_owned())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn reads_repeated_and_comma_separated_patterns() {
        let request = parse(args(&[
            "--sub",
            "42",
            "--channels",
            "room:*, news",
            "--channels=user:7",
            "--publish",
            "room:*",
            "--ttl",
            "15m",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(request.sub, "42");
        assert_eq!(request.channels, ["room:*", "news", "user:7"]);
        assert_eq!(request.publish, ["room:*"]);
        assert_eq!(request.ttl, Duration::from_secs(900));
        assert_eq!(parse(args(&["--help"])), Ok(None));
    }

    #[test]
    fn refuses_what_would_make_a_useless_token() {
        for (list, expected) in [
            (&["--channels", "news"][..], "--sub is required"),
            (&["--sub"], "--sub needs a value"),
            (&["--sub", "1", "--channels", "a*b"], "a*b"),
            (&["--sub", "1", "--ttl", "1w"], "1w"),
            (&["--sub", "1", "--ttl", "0s"], "0s"),
            (
                &["--sub", "1", "--ttl", "99999999999999999999d"],
                "not a duration",
            ),
            (&["--sub", "1", "--ttl", "31d"], "over 30 days"),
            (&["--sub", "1", "--user", "2"], "--user"),
        ] {
            let error = parse(args(list)).unwrap_err();
            assert!(error.contains(expected), "{list:?}: {error}");
        }
        assert_eq!(duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(duration("2d").unwrap(), Duration::from_secs(2 * 24 * 3600));
    }
}
