//! The kernel's CPU list syntax (`0-3,8`), as in `/sys` files and `--cpus`.

use std::fmt::Write as _;

use super::PlacementError;

/// The highest CPU number accepted, far above any machine this runs on, so a
/// typo like `0-4000000000` is refused instead of allocating.
pub const MAX_CPU: usize = 4095;

/// Parses `0-3,8` into sorted, de-duplicated CPU numbers.
///
/// Blank input (an empty `/sys` file for a CPU-less node) is an empty list.
pub fn parse_cpu_list(text: &str) -> Result<Vec<usize>, PlacementError> {
    let mut cpus = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.trim().is_empty()) {
        let part = part.trim();
        let bad = || PlacementError::BadCpuList(part.to_owned());
        let (first, last): (usize, usize) = match part.split_once('-') {
            Some((a, b)) => (
                a.trim().parse().map_err(|_| bad())?,
                b.trim().parse().map_err(|_| bad())?,
            ),
            None => {
                let cpu = part.parse().map_err(|_| bad())?;
                (cpu, cpu)
            }
        };
        if first > last || last > MAX_CPU {
            return Err(bad());
        }
        cpus.extend(first..=last);
    }
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

/// Formats CPU numbers back into the compact range syntax.
pub fn format_cpu_list(cpus: &[usize]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < cpus.len() {
        let start = cpus[i];
        let mut end = start;
        while i + 1 < cpus.len() && cpus[i + 1] == end + 1 {
            i += 1;
            end = cpus[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            let _ = write!(out, "{start}");
        } else {
            let _ = write!(out, "{start}-{end}");
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges_and_singles() {
        assert_eq!(parse_cpu_list("0-3,8").unwrap(), vec![0, 1, 2, 3, 8]);
        assert_eq!(parse_cpu_list("5,1-2,2\n").unwrap(), vec![1, 2, 5]);
        assert_eq!(parse_cpu_list("").unwrap(), Vec::<usize>::new());
    }

    #[test]
    fn refuses_nonsense() {
        for bad in ["a", "3-1", "1-", "-1", "0-99999", "1,,x"] {
            assert!(parse_cpu_list(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_compactly() {
        assert_eq!(format_cpu_list(&[0, 1, 2, 3, 8, 10, 11]), "0-3,8,10-11");
        assert_eq!(format_cpu_list(&[]), "");
    }
}
