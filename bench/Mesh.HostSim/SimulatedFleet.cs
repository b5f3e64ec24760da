using Akka.Actor;
using Mesh.Node.Attached;
using Mesh.Node.Configuration;
using Mesh.Node.Content;
using Mesh.Node.Converge;
using Mesh.Node.Membership;
using Mesh.Node.Observability;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.HostSim;

/// <summary>The simulated hosts of one process: a link and a <see cref="SimulatedHost"/> each.</summary>
public sealed class SimulatedFleet
{
    private readonly AttachedStatus[] _statuses;

    public SimulatedFleet(ActorSystem system, NodeSettings settings, string prefix, int count, string[] roles, string dataDir)
    {
        var metrics = new MeshMetrics(() => new Akka.Cluster.ClusterEvent.CurrentClusterState());
        var address = ((ExtendedActorSystem)system).Provider.DefaultAddress.ToString();
        _statuses = new AttachedStatus[count];
        for (var i = 0; i < count; i++)
        {
            var name = prefix + i;
            var status = _statuses[i] = new AttachedStatus();
            var home = Path.Combine(dataDir, name);
            var content = new ContentStore(home, reserve: 0);
            var fetcher = new ContentFetcher(system, content, settings.ChunkSize, settings.FetchTimeout, settings.MaxBlobSize, metrics);
            // Simulated hosts share one actor system, so they cannot each serve content at the one path: they do not relay.
            var loader = new RevisionLoader(fetcher, revision => status.PeersFor(revision, settings.Attached.Contacts), expectFirst: true);
            var identity = new NodeIdentity(name, roles.ToHashSet(StringComparer.Ordinal), new Dictionary<string, string>());
            var link = system.ActorOf(AttachedLink.Props(new AttachedLinkSetup(name, NodeRoles.Encode(name, roles, identity.Labels).ToArray(), address,
                settings.Attached.Contacts, settings.Attached.KeepAlive, new HeadsFile(Path.Combine(home, "heads.json")), status)), "link-" + i);
            system.ActorOf(Props.Create(() => new SimulatedHost(identity, link, loader)), "host-" + i);
        }
    }

    /// <summary>Until every host has a peer.</summary>
    public async Task AttachedAsync(CancellationToken cancel)
    {
        while (_statuses.Any(s => s.Peer.Length == 0)) await Task.Delay(100, cancel);
    }
}

/// <summary>
/// One simulated host: takes the heads its link gets, pulls each new body that targets it (from
/// its peer first, as a real host does) and reports it applied. No resource is touched.
/// </summary>
public sealed class SimulatedHost : ReceiveActor
{
    private readonly NodeIdentity _identity;
    private readonly IActorRef _link;
    private readonly RevisionLoader _loader;
    private readonly Dictionary<string, RevisionRecord> _wanted = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RevisionRecord> _done = new(StringComparer.Ordinal);
    private bool _busy;

    public SimulatedHost(NodeIdentity identity, IActorRef link, RevisionLoader loader)
    {
        (_identity, _link, _loader) = (identity, link, loader);
        Receive<IndexHeads>(heads =>
        {
            foreach (var head in heads.Heads.Where(h => !h.Deleted && h.Target.Matches(_identity)))
                if (!_done.TryGetValue(head.Manifest, out var done) || done.Version.CompareTo(head.Version) < 0) _wanted[head.Manifest] = head;
            Next();
        });
        Receive<Pulled>(pulled =>
        {
            _busy = false;
            var report = new ApplyReport(_identity.Name, pulled.Head.Manifest, pulled.Head.Version, pulled.Head.Hash,
                pulled.Error is null ? ApplyOutcome.Ok : ApplyOutcome.Failed, pulled.Error is null ? 1 : 0, [], pulled.Error,
                pulled.Milliseconds, DateTimeOffset.UtcNow);
            _link.Tell(report);
            if (pulled.Error is null) _done[pulled.Head.Manifest] = pulled.Head;
            else _wanted.TryAdd(pulled.Head.Manifest, pulled.Head);
            Next();
        });
    }

    protected override void PreStart() => _link.Tell(new AttachedLink.Follow(Self));

    private void Next()
    {
        if (_busy || _wanted.Count == 0) return;
        var head = _wanted.Values.First();
        _wanted.Remove(head.Manifest);
        _busy = true;
        var started = DateTime.UtcNow;
        _loader.BodyAsync(head).PipeTo(Self,
            success: _ => new Pulled(head, null, (long)(DateTime.UtcNow - started).TotalMilliseconds),
            failure: e => new Pulled(head, e.GetBaseException().Message, (long)(DateTime.UtcNow - started).TotalMilliseconds));
    }

    private sealed record Pulled(RevisionRecord Head, string? Error, long Milliseconds);
}
