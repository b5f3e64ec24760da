using Akka.Actor;
using Akka.Configuration;
using Mesh.Node.Api;
using Mesh.Node.Configuration;
using Mesh.Node.Membership;
using Mesh.Node.Service;
using Microsoft.AspNetCore.Builder;

namespace Mesh.Node;

/// <summary>
/// Runs mesh-node until it is told to stop, through as many incarnations as it takes.
///
/// When the cluster removes this node (the split-brain resolver downed it on the minority side
/// of a partition, or it was frozen for too long), Akka stops its actor system, and a removed
/// member never comes back under the same incarnation. So a new one starts with the same
/// settings and data directory (the durable store reloads, writes taken while cut off
/// included), asks the other members it last knew to let it in (never itself: a node that
/// joins itself forms a second mesh that never merges back), keeps asking until one answers,
/// and serves the control API on the same address again. Meanwhile it enforces its last known
/// state, as any node that has no peer does.
/// </summary>
/// <param name="reread">builds the configuration again, as at start, for a reload (<see cref="Reload"/>); null: no reloads</param>
/// <param name="systemd">the service manager's notification socket, or null</param>
public sealed class NodeLifetime(Config config, TextWriter output, TextWriter error, Func<Config>? reread = null, SystemdNotify? systemd = null)
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(30);

    private readonly ServiceNotifier _notifier = new(systemd, output);
    private Reloader? _reloader;
    /// <summary>The incarnation running now (null before the first start, and between two).</summary>
    private volatile MeshNode? _current;

    /// <summary>Reloads the configuration into the running incarnation (SIGHUP); ignored while none runs.</summary>
    public void Reload()
    {
        if (_current is { } node && _reloader is { } reloader) reloader.Reload(node);
        else output.WriteLine("mesh-node: reload ignored: the node is not running (it is starting, or starting again)");
    }

    /// <summary>
    /// Starts the node and its control API, calls <paramref name="started"/> once, and runs
    /// until <paramref name="stop"/> completes: then leaves the cluster gracefully (exit 0).
    /// Exit 2 when the first start fails on the configuration, the cluster port or the API
    /// address, or when the node is refused because another member holds its name; exit 1 when
    /// the cluster removed the node and it knows no other member to rejoin through, or a TLS
    /// handshake with a peer failed (also while the node was still starting: <see cref="NodeStoppedException"/>).
    /// </summary>
    public async Task<int> RunAsync(Task stop, Action<MeshNode, WebApplication> started)
    {
        MeshNode node;
        LiveSettings live;
        NodeSettings? settings = null;
        try
        {
            settings = NodeSettings.From(config);
            live = new LiveSettings(ReloadableSettings.From(settings, config));
            ClusterPort.RequireFree(settings.Host, settings.Port);
            node = MeshNode.Start(config, live);
        }
        catch (Exception e) when (e is ConfigurationException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"mesh-node: {e.Message}");
            return 2;
        }
        catch (NodeStoppedException e)
        {
            // As when a handshake stops a running node (the same words): a new incarnation would fail the same way.
            error.WriteLine($"mesh-node {settings?.Name}: stopping: {e.Message}");
            return 1;
        }

        WebApplication app;
        try
        {
            app = await ControlApi.StartAsync(node);
        }
        catch (IOException e)
        {
            error.WriteLine($"mesh-node: control API cannot listen on {node.Settings.Api}: {e.Message}");
            await node.DisposeAsync();
            return 2;
        }
        started(node, app);
        if (reread is not null) _reloader = new Reloader(reread, config, live, _notifier, output, error);

        var name = node.Settings.Name;
        while (true)
        {
            _current = node;
            using var following = new CancellationTokenSource();
            var follower = _notifier.FollowAsync(node, following.Token);
            await Task.WhenAny(stop, node.System.WhenTerminated);
            _current = null;
            await following.CancelAsync();
            await follower;
            if (stop.IsCompleted)
            {
                _notifier.Stopping();
                output.WriteLine($"mesh-node {name}: leaving the cluster");
                await app.StopAsync();
                await node.DisposeAsync();
                return 0;
            }

            // Refused because another member holds its name: a configuration error, as a busy port is.
            if (node.NameRefusal.Reason is { } refused)
            {
                error.WriteLine($"mesh-node {name}: {refused}");
                await app.StopAsync();
                await node.DisposeAsync();
                return 2;
            }

            // Stopped by a failed TLS handshake: a new incarnation would fail the same way. Exit
            // and let the supervisor retry after its pause, once the certificates are put right.
            if (Security.NodeTls.StoppedByHandshake(node))
            {
                await app.StopAsync();
                await node.DisposeAsync();
                return 1;
            }

            var seeds = RejoinThrough(node);
            await app.StopAsync();
            await app.DisposeAsync();
            await node.DisposeAsync();
            if (seeds.Length == 0)
            {
                output.WriteLine($"mesh-node {name}: the cluster removed this node, and it knows no other member to rejoin through; exiting");
                return 1;
            }
            var why = CoordinatedShutdown.Get(node.System).ShutdownReason switch
            {
                Membership.PauseWatch.PausedReason => "this node was paused for longer than the others wait before removing it",
                Membership.PauseWatch.QuarantinedReason => "a member quarantined this node (the cluster removed it)",
                _ => "the cluster removed this node",
            };
            output.WriteLine($"mesh-node {name}: {why}; starting again and rejoining through {string.Join(", ", seeds)}");

            var again = NodeConfig.Override(config, new Dictionary<string, object> { ["seeds"] = seeds.Select(s => s.ToString()).ToArray() });
            // Told to stop before a new incarnation could start: nothing is left to leave.
            if (await RestartAsync(again, live, node, stop) is not { } next)
            {
                _notifier.Stopping();
                return 0;
            }
            (node, app) = next;
            output.WriteLine($"mesh-node {name}: started again: cluster {node.Cluster.SelfAddress}, api {string.Join(" ", app.Urls)}; joining");
        }
    }

    /// <summary>
    /// The other members the removed incarnation knew, and the configured seeds, except this
    /// node's own address.
    /// </summary>
    private static Address[] RejoinThrough(MeshNode removed)
    {
        var self = removed.Cluster.SelfAddress;
        return removed.Settings.Seeds.Select(Address.Parse)
            .Concat(removed.Connectivity.KnownPeers)
            .Where(a => !a.Equals(self))
            .Distinct()
            .ToArray();
    }

    /// <summary>Starts a new incarnation, retrying with a growing pause until it starts or the node is told to stop (null).</summary>
    private async Task<(MeshNode, WebApplication)?> RestartAsync(Config again, LiveSettings live, MeshNode previous, Task stop)
    {
        var pause = FirstRetry;
        while (!stop.IsCompleted)
        {
            MeshNode? node = null;
            try
            {
                node = MeshNode.Start(again, live);
                node.Connectivity.Inherit(previous.Connectivity);
                return (node, await ControlApi.StartAsync(node));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The port may not be free yet, say: a node that stops trying is a node nobody can reach.
                error.WriteLine($"mesh-node {previous.Settings.Name}: cannot start again ({e.GetBaseException().Message}); retrying in {pause.TotalSeconds:0} s");
                if (node is not null) await node.DisposeAsync();
            }
            await Task.WhenAny(Task.Delay(pause), stop);
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, LastRetry.Ticks));
        }
        return null;
    }
}
