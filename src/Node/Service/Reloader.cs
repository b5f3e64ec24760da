using Akka.Configuration;
using Mesh.Node.Configuration;

namespace Mesh.Node.Service;

/// <summary>
/// SIGHUP: reads the configuration again the way the node was started (the same --config file
/// and flags), and applies what can change while the node runs (<see cref="ReloadableSettings"/>:
/// trust list, converge interval and jitter, log level). A configuration that does not load is
/// refused whole and the running one kept; keys that need a restart are named, not applied.
/// </summary>
/// <param name="reread">builds the configuration again from the file and the flags</param>
/// <param name="running">the configuration the node was started with</param>
public sealed class Reloader(Func<Config> reread, Config running, LiveSettings live, ServiceNotifier notifier, TextWriter output, TextWriter error)
{
    private const int SigHup = 1;

    /// <summary>
    /// Makes SIGHUP deliverable again when the process inherited it ignored (started under
    /// <c>nohup</c> or by a supervisor that ignores it): .NET registers no handler for a signal
    /// that is ignored, and the node would never reload. Call just before registering the handler.
    /// </summary>
    public static void ListenForHangup()
    {
        try
        {
            signal(SigHup, IntPtr.Zero); // SIG_DFL
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not a libc with signal(): nothing inherited to undo.
        }
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern IntPtr signal(int signum, IntPtr handler);

    private readonly Lock _lock = new();
    private readonly Akka.Event.LogLevel _startLevel = ReloadableSettings.From(NodeSettings.From(running), running).LogLevel;

    /// <summary>Reloads into <paramref name="node"/>, the current incarnation. One reload at a time.</summary>
    public void Reload(MeshNode node)
    {
        var name = node.Settings.Name;
        lock (_lock)
        {
            notifier.Reloading();
            Config config;
            ReloadableSettings next;
            try
            {
                config = reread();
                next = ReloadableSettings.From(NodeSettings.From(config), config);
            }
            catch (Exception e) when (e is ConfigurationException or ArgumentException or IOException or UnauthorizedAccessException or FormatException)
            {
                error.WriteLine($"mesh-node {name}: reload refused, the running configuration stays: {e.Message}");
                notifier.Reloaded($"ready; the last reload was refused: {e.Message}");
                return;
            }

            var before = live.Swap(next);
            node.System.EventStream.SetLogLevel(next.LogLevel);
            var changes = next.ChangesFrom(before);
            foreach (var change in changes) output.WriteLine($"mesh-node {name}: reloaded: {change}");
            if (changes.Count == 0) output.WriteLine($"mesh-node {name}: reloaded: nothing that applies without a restart changed");
            // Loggers made at start were told the start level; Akka asks them again only when they are made.
            if (next.LogLevel < before.LogLevel && next.LogLevel < _startLevel)
                output.WriteLine($"mesh-node {name}: note: a log level more verbose than the one the node started with reaches only what starts after the reload; restart for all of it");
            foreach (var key in ReloadableSettings.RestartOnly(running, config))
                error.WriteLine($"mesh-node {name}: {key} differs from the running configuration: it takes effect only at a restart");
            notifier.Reloaded(changes.Count == 0 ? "ready; reloaded, nothing changed" : $"ready; reloaded: {string.Join("; ", changes)}");
        }
    }
}
