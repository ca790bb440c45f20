"""What the machine was doing while a round ran, and what it declares about itself.

- Interference: `/proc/stat` gives the CPU time every process of the machine used (and `steal`, the
  time a hypervisor gave our virtual CPUs to someone else); subtracting this process's own CPU time
  (`os.times`) leaves what OTHER processes used during the round, in cores. A round during which other
  processes used more than OTHERS_LIMIT cores, or steal took more than STEAL_LIMIT of the CPUs, is
  marked as measured under interference. `/proc/loadavg` is read around every row as well.
- Cores used: this process's CPU time over wall time of the timed part of a round.
- Peak memory: Linux keeps a process's peak resident set (VmHWM in /proc/self/status); writing "5" to
  /proc/self/clear_refs resets it, so each round's own peak is read without later rows inheriting an
  earlier row's peak. Where that is not allowed the process-wide peak so far (ru_maxrss) is reported
  and the report says so.
- The theoretical float32 peak from what the CPU declares: cores x FMA pipes x lanes x 2 x clock.

Everything degrades to None (and the report says "not readable") on systems without /proc.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time

OTHERS_LIMIT = 0.25   # cores used by other processes during a round above which it is "under interference"
STEAL_LIMIT = 0.05    # share of the machine's CPU time stolen by the hypervisor, same
_CLK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_CPUS = os.cpu_count() or 1


def _read(path: str) -> str | None:
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return None


def proc_stat() -> tuple[float, float, float] | None:
    """(busy seconds, steal seconds, total seconds) summed over all CPUs since boot."""
    text = _read("/proc/stat")
    if not text:
        return None
    fields = [int(v) for v in text.split("\n", 1)[0].split()[1:]]
    fields += [0] * (8 - len(fields))
    user, nice, system, idle, iowait, irq, softirq, steal = fields[:8]
    busy = user + nice + system + irq + softirq
    return busy / _CLK, steal / _CLK, (busy + idle + iowait + steal) / _CLK


def load_average() -> float | None:
    text = _read("/proc/loadavg")
    return float(text.split()[0]) if text else None


def process_age_s() -> float:
    """Seconds since this process started (/proc/self/stat field 22, in clock ticks after boot); 0 where unreadable."""
    stat, uptime = _read("/proc/self/stat"), _read("/proc/uptime")
    if not (stat and uptime):
        return 0.0
    # the command name (field 2) may hold spaces: the fields after it start past its closing parenthesis
    started_ticks = int(stat.rsplit(")", 1)[1].split()[19])
    return max(0.0, float(uptime.split()[0]) - started_ticks / _CLK)


def own_cpu_seconds() -> float:
    # CLOCK_PROCESS_CPUTIME_ID: nanoseconds, where os.times() counts 10 ms ticks (useless for short rounds)
    return time.process_time()


_CLEAR_REFS_OK: bool | None = None


def reset_peak_rss() -> bool:
    """Reset this process's peak resident set to its current one; False where Linux does not allow it."""
    global _CLEAR_REFS_OK
    if _CLEAR_REFS_OK is False:
        return False
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        _CLEAR_REFS_OK = True
    except OSError:
        _CLEAR_REFS_OK = False
    return _CLEAR_REFS_OK


def peak_rss_bytes() -> int:
    """Peak resident set since the last reset (VmHWM), else the process's peak so far (ru_maxrss)."""
    text = _read("/proc/self/status")
    if text:
        for line in text.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def peak_rss_method() -> str:
    if _CLEAR_REFS_OK:
        return "VmHWM after resetting it (/proc/self/clear_refs) before each round: the row's own peak"
    return "the process's peak resident set so far (ru_maxrss): an upper bound of the row's own peak"


class Sample:
    """Machine counters at one instant; `Sample.now() - earlier` gives what happened in between."""

    __slots__ = ("wall", "cpu", "stat")

    def __init__(self, wall: float, cpu: float, stat):
        self.wall, self.cpu, self.stat = wall, cpu, stat

    @classmethod
    def now(cls) -> "Sample":
        """At the end of a timed part: the wall clock first, so reading /proc/stat (~20 us) is not timed."""
        return cls(time.perf_counter(), own_cpu_seconds(), proc_stat())

    @classmethod
    def starting(cls) -> "Sample":
        """At the start of a timed part: the wall clock last, for the same reason."""
        stat, cpu = proc_stat(), own_cpu_seconds()
        return cls(time.perf_counter(), cpu, stat)

    def since(self, earlier: "Sample") -> dict:
        wall = self.wall - earlier.wall
        cpu = self.cpu - earlier.cpu
        out = {"wall_s": wall, "cpu_s": cpu, "others_cpu_s": None, "steal_s": None}
        if self.stat and earlier.stat:
            busy = self.stat[0] - earlier.stat[0]
            out["others_cpu_s"] = max(0.0, busy - cpu)
            out["steal_s"] = max(0.0, self.stat[1] - earlier.stat[1])
        return out


def interference(parts: dict) -> dict:
    """Cores used by others, steal share and the verdict for one round's accumulated counters.

    /proc/stat counts whole clock ticks (1/USER_HZ s), charged to whatever runs when the tick comes, so over a
    short round the machine's busy time is known only to about one tick per CPU; this process's own time is
    exact (process_time). A round is flagged only when what others used exceeds the limit by more than that
    quantum, so that a 20 ms round is not condemned by one tick of rounding."""
    wall = parts["wall_s"]
    others = parts.get("others_cpu_s")
    steal = parts.get("steal_s")
    others_cores = others / wall if (others is not None and wall > 0) else None
    steal_share = steal / (wall * _CPUS) if (steal is not None and wall > 0) else None
    quantum = _CPUS / _CLK
    flagged = bool(wall > 0 and ((others or 0.0) - quantum > OTHERS_LIMIT * wall
                                 or (steal or 0.0) - quantum > STEAL_LIMIT * wall * _CPUS))
    return {"others_cores": others_cores, "steal_share": steal_share, "interfered": flagged}


# -- the thread configuration ----------------------------------------------------------------------

def fix_threads(tf, cores: int | None = None) -> dict:
    """One thread configuration for every row, set before TensorFlow starts its runtime, and stated in
    the report: intra-op = inter-op = the usable cores, tf.data's own default pool (one thread per core)."""
    cores = cores or usable_cores()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(cores)
        tf.config.threading.set_inter_op_parallelism_threads(cores)
        fixed = True
    except RuntimeError:  # the runtime was already initialised: report what it uses
        fixed = False
    return {
        "intra_op_parallelism_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_parallelism_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "tf_data_private_threadpool": "default (one thread per usable core)",
        "usable_cores": cores, "set_before_runtime_start": fixed,
        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset (oneDNN on, TensorFlow's default on x86)"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "unset"),
        "TF_XLA_FLAGS": os.environ.get("TF_XLA_FLAGS", "unset"),
    }


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


# -- what the CPU declares -------------------------------------------------------------------------

def cpu_declaration() -> dict:
    """Vendor, model, flags and clock from /proc/cpuinfo (and cpufreq's maximum where it exists)."""
    info = {"vendor": None, "model": platform.processor() or None, "flags": [], "mhz": None, "max_mhz": None}
    text = _read("/proc/cpuinfo") or ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "vendor_id" and info["vendor"] is None:
            info["vendor"] = value
        elif key == "model name" and not info.get("model_name"):
            info["model_name"] = value
        elif key == "flags" and not info["flags"]:
            info["flags"] = value.split()
        elif key == "cpu MHz" and info["mhz"] is None:
            info["mhz"] = float(value)
    max_khz = _read("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    if max_khz:
        info["max_mhz"] = int(max_khz) / 1000.0
    return info


def theoretical_peak(cores: int | None = None, decl: dict | None = None) -> dict:
    """float32 FLOP/s = cores x FMA pipes x lanes x 2 (an FMA is two FLOPs) x clock.

    Lanes come from the widest vector extension the flags declare (avx512f: 16, avx2/fma: 8, sse: 4).
    The flags do not say how many FMA pipes a core has or how wide they are: 2 is assumed (every x86
    server core since Haswell/Zen 1). AMD's first AVX-512 cores (Zen 4) execute 512-bit FMAs on their
    256-bit pipes; they are told apart from Zen 5 (full-width pipes) by the one AVX-512 flag Zen 4 lacks,
    avx512_vp2intersect, and counted with 8 lanes.

    The clock is cpufreq's maximum where Linux exposes it; otherwise (a virtual machine, typically) only the
    declared nominal clock of /proc/cpuinfo is readable, and turbo can run above it, so the figure is then
    not an upper bound: the report shows it beside the measured peak with the clock the measured peak
    implies (`implied_mhz`), and no percentage uses it."""
    decl = decl or cpu_declaration()
    cores = cores or usable_cores()
    flags = set(decl.get("flags") or [])
    if "avx512f" in flags and decl.get("vendor") == "AuthenticAMD" and "avx512_vp2intersect" not in flags:
        lanes, ext = 8, "AVX-512 on 256-bit pipes (AMD Zen 4)"
    elif "avx512f" in flags:
        lanes, ext = 16, "AVX-512"
    elif "fma" in flags or "avx2" in flags:
        lanes, ext = 8, "AVX2/FMA"
    elif flags & {"sse", "sse2"}:
        lanes, ext = 4, "SSE"
    else:
        lanes, ext = None, None
    fma = "fma" in flags or "avx512f" in flags
    mhz = decl.get("max_mhz") or decl.get("mhz")
    per_cycle = 2 * lanes * (2 if fma else 1) if lanes else None  # FLOP per cycle per core
    out = {"cores": cores, "lanes_float32": lanes, "vector_extension": ext, "fma_pipes_assumed": 2,
           "fma": fma, "clock_mhz": mhz, "flop_per_cycle_per_core": per_cycle,
           "clock_source": ("cpufreq cpuinfo_max_freq (maximum)" if decl.get("max_mhz") else
                            "/proc/cpuinfo cpu MHz (nominal: turbo may run above it)"),
           "upper_bound": bool(decl.get("max_mhz")), "flop_per_s": None}
    if per_cycle and mhz:
        out["flop_per_s"] = cores * per_cycle * mhz * 1e6
        out["formula"] = (f"{cores} cores x 2 FMA pipes (assumed) x {lanes} float32 lanes ({ext}) x "
                          f"{2 if fma else 1} FLOP per {'FMA' if fma else 'op'} x {mhz:.0f} MHz "
                          f"({'maximum' if decl.get('max_mhz') else 'nominal'} clock)")
    else:
        out["formula"] = "not readable here (/proc/cpuinfo flags or clock missing)"
    return out


def implied_mhz(measured_flop_per_s: float, theo: dict) -> float | None:
    """The clock at which the declared vector units would deliver the measured peak."""
    per_cycle, cores = theo.get("flop_per_cycle_per_core"), theo.get("cores")
    if not per_cycle or not cores or not measured_flop_per_s:
        return None
    return measured_flop_per_s / (cores * per_cycle) / 1e6
