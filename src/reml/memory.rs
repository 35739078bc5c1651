//! Memory checks made before a large allocation: the size it needs against
//! what the system says is available, so that a model too large for the
//! machine is an [`RemlError::OutOfMemory`] naming the allocation, not an
//! abort.

use super::RemlError;

/// Memory available to this process (`MemAvailable` of `/proc/meminfo`),
/// where the system tells.
pub(crate) fn available_memory() -> Option<u128> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u128 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Below this many bytes an allocation is not checked (reading
/// `/proc/meminfo` costs more than a small model's evaluation).
const UNCHECKED: u128 = 1 << 26;

/// Errors with [`RemlError::OutOfMemory`] naming `what` (made only then)
/// when `bytes` exceed the memory available, or cannot be reserved, with
/// `advice` on what to do instead.
pub(crate) fn check_memory(
    what: impl FnOnce() -> String,
    bytes: u128,
    advice: &str,
) -> Result<(), RemlError> {
    if bytes < UNCHECKED {
        return Ok(());
    }
    let too_big = available_memory().is_some_and(|a| bytes > a)
        || usize::try_from(bytes).is_err()
        || Vec::<u8>::new().try_reserve_exact(bytes as usize).is_err();
    if too_big {
        return Err(RemlError::OutOfMemory {
            what: what(),
            bytes,
            advice: advice.to_string(),
        });
    }
    Ok(())
}
