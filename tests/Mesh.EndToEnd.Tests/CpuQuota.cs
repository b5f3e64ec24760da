namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Starves processes of CPU as a busy host would: each process put in a cgroup of its own capped
/// at a share of one core (cgroup v2 <c>cpu.max</c>, or v1 <c>cpu.cfs_quota_us</c>), or, where
/// no cgroup can be made (not root, no cpu controller), one spinning thread per core beside them.
/// Disposed, every process still in its cgroup goes back to the parent, the cgroups are removed
/// and the spinning stops, whatever happened meanwhile.
/// </summary>
public sealed class CpuQuota : IDisposable
{
    private const string Root = "/sys/fs/cgroup";
    private readonly string? _parent;
    private readonly int _percent;
    private readonly List<string> _groups = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Thread> _spinners = [];

    /// <param name="percent">each process's share of one core</param>
    public CpuQuota(int percent)
    {
        _percent = percent;
        _parent = File.Exists(Path.Combine(Root, "cgroup.controllers")) && File.ReadAllText(Path.Combine(Root, "cgroup.controllers")).Split().Contains("cpu")
            ? Root
            : File.Exists(Path.Combine(Root, "cpu", "cpu.cfs_quota_us")) ? Path.Combine(Root, "cpu") : null;
        if (_parent is not null && !CanWrite(_parent)) _parent = null;
        if (_parent is null)
            for (var i = 0; i < Environment.ProcessorCount; i++)
            {
                var spinner = new Thread(() =>
                {
                    var x = 0L;
                    while (!_stop.IsCancellationRequested) x++;
                }) { IsBackground = true, Name = "cpu-hog" };
                spinner.Start();
                _spinners.Add(spinner);
            }
    }

    /// <summary>How the starving is done, for the test's output.</summary>
    public string How => _parent is null
        ? $"no writable cgroup with a cpu controller under {Root}: {Environment.ProcessorCount} busy loop(s) beside the nodes instead"
        : $"each node in a cgroup capped at {_percent}% of one core ({(_parent == Root ? "v2 cpu.max" : "v1 cpu.cfs_quota_us")})";

    /// <summary>Caps process <paramref name="pid"/> (with all its threads); nothing to do with busy loops.</summary>
    public void Starve(int pid)
    {
        if (_parent is null) return;
        var group = Path.Combine(_parent, $"mesh-starved-{Guid.NewGuid():N}"[..26]);
        Directory.CreateDirectory(group);
        _groups.Add(group);
        const int period = 100_000;
        var quota = period * _percent / 100;
        if (_parent == Root) File.WriteAllText(Path.Combine(group, "cpu.max"), $"{quota} {period}");
        else
        {
            File.WriteAllText(Path.Combine(group, "cpu.cfs_period_us"), period.ToString());
            File.WriteAllText(Path.Combine(group, "cpu.cfs_quota_us"), quota.ToString());
        }
        File.WriteAllText(Path.Combine(group, "cgroup.procs"), pid.ToString());
    }

    private static bool CanWrite(string parent)
    {
        var probe = Path.Combine(parent, $"mesh-probe-{Guid.NewGuid():N}"[..24]);
        try
        {
            Directory.CreateDirectory(probe);
            Directory.Delete(probe);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        foreach (var spinner in _spinners) spinner.Join();
        foreach (var group in _groups)
        {
            try
            {
                // A cgroup with processes in it cannot be removed: hand them back to the parent first.
                foreach (var pid in File.ReadAllLines(Path.Combine(group, "cgroup.procs")).Where(l => l.Length > 0))
                    try
                    {
                        File.WriteAllText(Path.Combine(_parent!, "cgroup.procs"), pid);
                    }
                    catch (IOException)
                    {
                        // Exited meanwhile.
                    }
                Directory.Delete(group);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"could not remove cgroup {group}: {e.Message}");
            }
        }
    }
}
