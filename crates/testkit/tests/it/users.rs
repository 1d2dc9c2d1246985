//! (tests)
use super::*;
