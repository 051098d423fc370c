//! One file per subcommand.
//!
//! `sim`, `demo` and `bench` serve the simulated org, so they exist only with the `demo`
//! feature (on by default). Without it `sim` is absent, and `demo` and `bench` remain as
//! [`WithoutDemo`] stubs so that typing them explains how to get them instead of clap's bare
//! "unrecognized subcommand".

#[cfg(feature = "demo")]
pub mod bench;
pub mod build;
#[cfg(feature = "demo")]
pub mod demo;
pub mod forecast;
mod forecast_render;
pub mod ingest;
pub mod lake;
pub mod people;
pub mod run;
pub mod runs;
#[cfg(feature = "demo")]
pub mod sim;
pub mod sql;

/// A command this build left out (the `demo` feature is off). `main` prints it and exits
/// with [`LeftOut::EXIT`].
#[derive(Debug)]
pub struct LeftOut(pub &'static str);

impl LeftOut {
    /// 2, clap's code for a usage error: the command line asks for something this binary
    /// cannot do, and nothing ran.
    pub const EXIT: u8 = 2;
}

impl std::fmt::Display for LeftOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`flowlake {}` needs the simulator: this flowlake was built without the `demo` \
             feature; rebuild with `cargo build -p flowlake-cli --features demo`",
            self.0
        )
    }
}

impl std::error::Error for LeftOut {}

/// The flags of a command this build left out: accepted whatever they are, so that
/// `flowlake demo --lake x` reaches the explanation rather than a flag error.
#[cfg(not(feature = "demo"))]
#[derive(Debug, clap::Args)]
pub struct WithoutDemo {
    #[arg(
        hide = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        num_args = 0..
    )]
    _args: Vec<std::ffi::OsString>,
}
