//! `covreml`: fit linear mixed models from a CSV file and an lme4-style
//! formula. The command is [`covreml::cli`]; this is its `main`.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    // Progress lines go to standard error as they come.
    let out = covreml::cli::run_with_progress(&argv, &mut |line: &str| {
        let _ = writeln!(std::io::stderr(), "{line}");
    });
    // A closed pipe (`covreml … | head`) is not an error of the fit.
    let _ = std::io::stdout().write_all(out.stdout.as_bytes());
    let _ = std::io::stderr().write_all(out.stderr.as_bytes());
    ExitCode::from(out.status)
}
