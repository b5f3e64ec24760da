using System.Globalization;

namespace Mesh.Bench;

public static class Stats
{
    /// <summary>Nearest-rank percentile (p in 0..100) of a non-empty sample: always one of the measured values.</summary>
    public static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>The median as the middle value (mean of the two middle values for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    public static string F(double value, int decimals = 0) =>
        double.IsNaN(value) ? "–" : value.ToString("F" + decimals, CultureInfo.InvariantCulture);

    /// <summary>"0.42×" — a measured value over a target or a reference.</summary>
    public static string Ratio(double value, double reference) =>
        double.IsNaN(value) || reference <= 0 ? "–" : (value / reference).ToString("0.00", CultureInfo.InvariantCulture) + "×";
}

/// <summary>Readings from /proc for one process.</summary>
public static class ProcFs
{
    private static readonly Lazy<long> ClockTicks = new(ReadClockTicks);

    public static long ClockTicksPerSecond => ClockTicks.Value;

    /// <summary>utime + stime of the process, in seconds.</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
        var ticks = long.Parse(fields[14 - 3], CultureInfo.InvariantCulture) + long.Parse(fields[15 - 3], CultureInfo.InvariantCulture);
        return ticks / (double)ClockTicks.Value;
    }

    /// <summary>A "Key: value kB"-style field of /proc/PID/status as a number (kB for memory fields).</summary>
    public static long StatusField(int pid, string key)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
                return long.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        throw new InvalidDataException($"/proc/{pid}/status has no {key}");
    }

    /// <summary>The 1-minute load average.</summary>
    public static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    private static long ReadClockTicks()
    {
        try
        {
            using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true })!;
            try
            {
                var text = p.StandardOutput.ReadToEnd();
                if (!p.WaitForExit(5000)) throw new TimeoutException();
                return long.Parse(text.Trim(), CultureInfo.InvariantCulture);
            }
            finally
            {
                if (!p.HasExited) p.Kill(entireProcessTree: true);
            }
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or FormatException or TimeoutException)
        {
            return 100; // USER_HZ on Linux
        }
    }
}

/// <summary>CPU seconds used by the given processes, by this program, and by the whole machine (from /proc/stat) at one moment.</summary>
public sealed record CpuSnapshot(double[] NodeSeconds, double SelfSeconds, double MachineBusySeconds, double MachineTotalSeconds, DateTime At)
{
    public static CpuSnapshot Take(IReadOnlyList<Mesh.EndToEnd.Tests.NodeProcess> nodes)
    {
        // First line of /proc/stat: "cpu user nice system idle iowait irq softirq steal …" in clock ticks.
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Take(8).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var idle = fields[3] + fields[4];
        var tick = ProcFs.ClockTicksPerSecond;
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return new CpuSnapshot(nodes.Select(n => ProcFs.CpuSeconds(n.Pid)).ToArray(), self.TotalProcessorTime.TotalSeconds,
            (fields.Sum() - idle) / (double)tick, fields.Sum() / (double)tick, DateTime.UtcNow);
    }

    public CpuUse Since(CpuSnapshot before)
    {
        var nodes = NodeSeconds.Zip(before.NodeSeconds, (a, b) => a - b).ToArray();
        var wall = (At - before.At).TotalSeconds;
        var total = MachineTotalSeconds - before.MachineTotalSeconds;
        var busy = MachineBusySeconds - before.MachineBusySeconds;
        var self = SelfSeconds - before.SelfSeconds;
        return new CpuUse(nodes,
            total <= 0 ? double.NaN : 100.0 * busy / total,
            wall <= 0 ? double.NaN : 100.0 * self / wall,
            wall <= 0 ? double.NaN : 100.0 * Math.Max(0, busy - nodes.Sum() - self) / wall,
            wall);
    }
}

/// <summary>
/// CPU used over an interval: per node process (seconds); how busy the machine was (% of all
/// cores); this program's own share and everything else on the machine (% of one core).
/// </summary>
public sealed record CpuUse(double[] NodeSeconds, double MachineBusyPercent, double SelfPercentOfCore, double OthersPercentOfCore, double WallSeconds);
