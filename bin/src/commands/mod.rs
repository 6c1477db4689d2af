//! One module per subcommand.

pub(crate) mod check_config;
pub(crate) mod serve;
pub(crate) mod topology;

use crate::EXIT_USAGE;
use crate::config::ConfigError;

/// Why a command stopped: one line for stderr and the exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    /// One line, no trailing newline.
    pub(crate) message: String,
    /// The process exit code.
    pub(crate) code: u8,
}

impl Failure {
    /// A bad flag or config value (exit code 2).
    pub(crate) fn usage(message: impl ToString) -> Failure {
        Failure {
            message: message.to_string(),
            code: EXIT_USAGE,
        }
    }

    /// The machine or the runtime said no (exit code 1).
    pub(crate) fn runtime(message: impl ToString) -> Failure {
        Failure {
            message: message.to_string(),
            code: 1,
        }
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Failure {
        Failure::usage(e)
    }
}
