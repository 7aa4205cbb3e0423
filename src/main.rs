fn main() {
    println!("rtgen");
}
