using System.Runtime;
using System.Runtime.InteropServices;

namespace Mesh.Node.Service;

/// <summary>
/// Keeps an idle node small. Two things measured on an idle node (docs/BENCHMARKS.md, "Where an
/// idle node's memory goes") held most of its resident memory beyond the managed heap:
/// <list type="bullet">
/// <item>glibc's per-thread malloc arenas (one per thread that ever allocated, up to 8 per core):
/// the JIT, the runtime and native libraries allocate on many threads at start-up and the freed
/// memory stays in those arenas. <see cref="LimitArenas"/> caps them at two before most threads
/// exist, as <c>MALLOC_ARENA_MAX=2</c> would.</item>
/// <item>memory freed after start-up that neither the GC nor malloc hands back to the kernel by
/// itself. <see cref="Trim"/> asks both to (an aggressive, compacting GC that decommits free
/// regions, then <c>malloc_trim</c>); the node does it once start-up work has settled and then
/// every <see cref="Interval"/>, a few milliseconds of CPU each time.</item>
/// </list>
/// </summary>
public sealed class Footprint : IDisposable
{
    /// <summary>How long after start the first trim runs: JIT and first gossip rounds are over by then.</summary>
    public static readonly TimeSpan FirstTrim = TimeSpan.FromSeconds(30);

    /// <summary>Between trims: rare enough to cost nothing at rest, often enough to hand back what a busy spell took.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    private const int ArenaMax = -8; // M_ARENA_MAX in glibc's malloc.h

    private readonly Timer _timer;

    private Footprint() => _timer = new Timer(_ => Trim(), null, FirstTrim, Interval);

    /// <summary>Caps glibc's malloc arenas; call first thing in the process. Elsewhere than glibc it does nothing.</summary>
    public static void LimitArenas()
    {
        // MALLOC_ARENA_MAX set by the operator wins.
        if (Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null) return;
        try
        {
            mallopt(ArenaMax, 2);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (musl has no arenas to cap).
        }
    }

    /// <summary>Starts the periodic trim; dispose to stop it.</summary>
    public static Footprint Start() => new();

    /// <summary>Hands memory that is free back to the kernel, from the managed heap and from malloc.</summary>
    public static void Trim()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        try
        {
            malloc_trim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc.
        }
    }

    public void Dispose() => _timer.Dispose();

    [DllImport("libc")]
    private static extern int mallopt(int param, int value);

    [DllImport("libc")]
    private static extern int malloc_trim(nuint pad);
}
