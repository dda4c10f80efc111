//! The process's file-descriptor limit: each connection holds one, so a node that may keep
//! thousands open needs more than the 1,024 many systems give a process by default.

/// Raises the process's soft limit on open files to its hard limit, as far as the system allows,
/// and returns the limit now in force (`None` where it cannot be read).
#[cfg(unix)]
pub fn raise_descriptor_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` and `setrlimit` read and write only the `rlimit` passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    Some(limit.rlim_cur)
}

/// Raises the process's soft limit on open files to its hard limit, as far as the system allows,
/// and returns the limit now in force (`None` where it cannot be read).
#[cfg(not(unix))]
pub fn raise_descriptor_limit() -> Option<u64> {
    None
}
