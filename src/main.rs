fn main() -> std::process::ExitCode {
    scaffold::main()
}
