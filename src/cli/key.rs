//! `imprint key new`: an Ed25519 key pair in minisign's formats, for
//! signing records (`flash --report FILE --sign KEY`) that `minisign -V`
//! and `imprint verify-drive --key` check (docs/architecture.md §11
//! "Signed records").

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::request::Exit;
use crate::sign;

#[derive(Debug, Args)]
pub struct KeyArgs {
    #[command(subcommand)]
    pub command: KeyCommand,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make a key pair: FILE (the secret key, mode 0600) and FILE with
    /// `.pub` (the public key to hand out). Neither is overwritten.
    New {
        /// The secret key's file; the public key goes beside it, as .pub.
        #[arg(
            short = 'o',
            long = "output",
            value_name = "FILE",
            default_value = "imprint.key"
        )]
        output: PathBuf,
        /// Leave the secret key unencrypted (an unattended station); by
        /// default it is encrypted with a password asked on the terminal.
        #[arg(long)]
        no_password: bool,
    },
}

pub(super) fn run(args: KeyArgs) -> Exit {
    match args.command {
        KeyCommand::New {
            output,
            no_password,
        } => new(output, no_password),
    }
}

fn new(secret: PathBuf, no_password: bool) -> Exit {
    let public = sign::public_key_path(&secret);
    if secret == public {
        eprintln!(
            "imprint: {} ends in .pub, the public key's name; name the secret key otherwise (e.g. imprint.key)",
            secret.display()
        );
        return Exit::Refused;
    }
    let password = if no_password {
        None
    } else {
        match ask_new_password() {
            Ok(password) => Some(password),
            Err(message) => {
                eprintln!("imprint: {message}; no key was made");
                return Exit::Refused;
            }
        }
    };
    match sign::new_key_pair(&secret, &public, password) {
        Ok(_) => {
            println!("secret key: {}", secret.display());
            println!("public key: {}", public.display());
            Exit::Ok
        }
        Err(e) => {
            eprintln!("imprint: {e}; no key was made");
            Exit::Refused
        }
    }
}

/// A new password, asked twice on the terminal (never standard input,
/// which may be a script's).
fn ask_new_password() -> Result<String, String> {
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt).map_err(|e| {
            format!(
                "cannot ask for a password on the terminal ({e}); run it on a terminal, or pass --no-password for an unencrypted key"
            )
        })
    };
    let first = ask("Password for the new secret key: ")?;
    if first.is_empty() {
        return Err(
            "an empty password protects nothing; pass --no-password for an unencrypted key".into(),
        );
    }
    if ask("The same password again: ")? != first {
        return Err("the two passwords differ".into());
    }
    Ok(first)
}

/// The password of the encrypted secret key at `path`, asked on the
/// terminal.
pub(super) fn ask_password(path: &std::path::Path) -> std::io::Result<String> {
    rpassword::prompt_password(format!("Password for {}: ", path.display()))
}
