"""Start a kernel for untrusted student code: limits first, then exec the kernel.

    python -m nnlib.grade.sandbox --scratch DIR --memory MB --cpu SECONDS -- KERNEL COMMAND...

- resource limits: address space (memory), CPU seconds, the size of any file written;
- started as root: the kernel runs as the user ``nobody`` (the scratch folder is handed to it)
  where Python and nnlib are readable by every user, and in a network namespace of its own;
- Landlock (Linux 5.13 and later): every write outside the scratch folder and /dev is refused,
  and so is every TCP connection or bind (Linux 6.7 and later), and signals to processes outside
  the sandbox (Linux 6.12 and later). Where Landlock is missing the kernel still starts, and the
  grader says what is not confined.

The kernel talks to the grader over Unix sockets in the scratch folder, so it needs no network.
"""

import argparse
import ctypes
import os
import pwd
import resource
import sys

# Landlock's system calls and flags (include/uapi/linux/landlock.h); the numbers are the same on
# every architecture
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
_WRITE_FILE, _REMOVE_DIR, _REMOVE_FILE = 1 << 1, 1 << 4, 1 << 5
_MAKE = sum(1 << bit for bit in range(6, 13))      # char, dir, reg, sock, fifo, block, sym
_REFER, _TRUNCATE = 1 << 13, 1 << 14
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_SIGNAL = 1 << 1


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi():
    """Landlock's ABI version on this system, 0 where it is missing."""
    if not sys.platform.startswith("linux"):
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    version = libc.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(int(version), 0)


def confine(writable):
    """Refuse writes outside ``writable`` folders, TCP, and signals out of the sandbox.
    Returns the list of what is confined."""
    abi = landlock_abi()
    if abi < 1:
        return []
    libc = ctypes.CDLL(None, use_errno=True)
    writes = _WRITE_FILE | _REMOVE_DIR | _REMOVE_FILE | _MAKE
    writes |= (_REFER if abi >= 2 else 0) | (_TRUNCATE if abi >= 3 else 0)
    attr = _RulesetAttr(writes, (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0,
                        _SCOPE_SIGNAL if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24   # the struct grew with the ABI
    ruleset = libc.syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                           ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    for folder, access in writable:
        fd = os.open(folder, os.O_PATH | os.O_CLOEXEC)
        rule = _PathBeneathAttr(access & writes, fd)
        if libc.syscall(_ADD_RULE, ruleset, _PATH_BENEATH, ctypes.byref(rule), 0) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {folder}")
        os.close(fd)
    libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if libc.syscall(_RESTRICT_SELF, ruleset, 0) != 0:
        raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    os.close(ruleset)
    return ["writes"] + (["tcp"] if abi >= 4 else []) + (["signals"] if abi >= 6 else [])


def _reachable_by_others(path):
    """True when a user with no rights of its own can read ``path`` (every folder above it
    searchable by others, the file readable by others)."""
    path = os.path.realpath(path)
    folder = os.path.dirname(path)
    while True:
        if not os.stat(folder).st_mode & 0o001:
            return False
        if folder == os.path.dirname(folder):
            break
        folder = os.path.dirname(folder)
    return bool(os.stat(path).st_mode & 0o004)


def can_drop_root():
    """True when started as root and Python and nnlib are usable by the user ``nobody``."""
    if os.geteuid() != 0:
        return False
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        return False
    here = os.path.dirname(os.path.abspath(__file__))
    return all(_reachable_by_others(p) for p in (sys.executable, here))


def drop_root(scratch):
    """Run as ``nobody``, owning the scratch folder, when started as root and that is possible."""
    if not can_drop_root():
        return
    nobody = pwd.getpwnam("nobody")
    for folder, dirs, files in os.walk(scratch):
        for name in [folder] + [os.path.join(folder, n) for n in dirs + files]:
            os.chown(name, nobody.pw_uid, nobody.pw_gid)
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scratch", required=True, help="the only folder it may write in")
    parser.add_argument("--cwd", help="where it starts, inside the scratch folder")
    parser.add_argument("--memory", type=int, required=True, help="MB of address space")
    parser.add_argument("--cpu", type=int, required=True, help="CPU seconds in all")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    memory = args.memory * 2 ** 20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (args.cpu, args.cpu + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (2 ** 28, 2 ** 28))
    os.chdir(args.cwd or args.scratch)
    drop_root(args.scratch)
    confine([(args.scratch, ~0), ("/dev", _WRITE_FILE | _TRUNCATE)])
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
