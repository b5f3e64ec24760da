using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Mesh.Node.Audit;
using Mesh.Node.Configuration;
using Mesh.Node.Content;
using Mesh.Node.Converge;
using Mesh.Node.Facts;
using Mesh.Node.Membership;
using Mesh.Node.Observability;
using Mesh.Node.Providers;
using Mesh.Node.Security;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;

namespace Mesh.Node.Attached;

/// <summary>
/// An attached host (<c>mesh.attach</c>, docs/SCALING.md): not a cluster member, no replica of the
/// replicated state, no control API. An Akka.Remote actor system with a <see cref="AttachedLink"/>
/// to the core peers, and the same converger as a member's: it applies what targets this host,
/// checks every revision's signature against its own trust list, re-checks and repairs drift,
/// takes its turn in rollouts, and reports through its peer. Bodies come from the peers'
/// content servers, the peer this host is attached to first.
/// </summary>
public sealed class AttachedNode : IAsyncDisposable
{
    public NodeSettings Settings { get; }
    public ActorSystem System { get; }
    public AttachedStatus Status { get; }
    public AuditLog Audit { get; }

    private AttachedNode(NodeSettings settings, LiveSettings live, ActorSystem system, NodeKey key)
    {
        Settings = settings;
        System = system;
        Status = new AttachedStatus();
        var identity = new NodeIdentity(settings.Name, settings.Roles.ToHashSet(StringComparer.Ordinal), settings.Labels);
        var shift = (long)settings.Clock.Offset.TotalMilliseconds;
        var clock = new HybridClock(settings.Name, () => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + shift);
        Directory.CreateDirectory(settings.Root);
        var content = new ContentStore(settings.DataDir, warning => system.Log.Warning(warning));
        Audit = new AuditLog(settings.DataDir, settings.Name, settings.AuditRotation);
        var metrics = new MeshMetrics(() => new Akka.Cluster.ClusterEvent.CurrentClusterState());
        var fetcher = new ContentFetcher(system, content, settings.ChunkSize, settings.FetchTimeout, settings.MaxBlobSize, metrics);
        var status = Status;
        var loader = new RevisionLoader(fetcher, revision => status.PeersFor(revision, settings.Attached.Contacts), expectFirst: true);
        var fleet = new FleetView(NodeFacts.Gather(identity, settings.Facts.Directory, settings.Facts.Timeout));

        var link = system.ActorOf(AttachedLink.Props(new AttachedLinkSetup(settings.Name,
            NodeRoles.Encode(settings.Name, settings.Roles, settings.Labels, key.PublicKey).ToArray(), ((ExtendedActorSystem)system).Provider.DefaultAddress.ToString(),
            settings.Attached.Contacts, settings.Attached.KeepAlive, new HeadsFile(Path.Combine(settings.DataDir, "attached", "heads.json")), Status,
            Relays: ServesOthers(settings))), AttachedLink.Name);
        // Other hosts under this one in a body's relay tree pull from here, as members do from each other.
        system.ActorOf(ContentServer.Props(content, ContentServer.MaxChunk, metrics, fetcher, settings.Name, settings.FetchTimeout * 0.8, cluster: null), ContentServer.Name);
        var context = MeshNode.ApplyContextOf(settings, fleet, content, key);
        var setup = new ConvergerSetup(identity, context, loader, new PeerStore(link), Audit, ApplyEngine.Default(), clock, settings.Announce,
            FetchBackoff.Until(settings.FetchDeadline), settings.WatchPaths, live, new ConvergeProgress(), metrics, link);
        system.ActorOf(Converger.Props(setup), Converger.Name);
    }

    /// <summary>
    /// Whether other hosts can reach this one to pull bodies: not when it listens on loopback
    /// while its core is elsewhere (the default address on a real fleet).
    /// </summary>
    public static bool ServesOthers(NodeSettings settings)
    {
        static bool Loopback(string host) =>
            host == "localhost" || (global::System.Net.IPAddress.TryParse(host, out var ip) && global::System.Net.IPAddress.IsLoopback(ip));
        var advertised = settings.PublicHost.Length > 0 ? settings.PublicHost : settings.Host;
        return !Loopback(advertised) || settings.Attached.Contacts.All(c => Loopback(Address.Parse(c).Host ?? ""));
    }

    /// <summary>Starts an attached host from a full configuration (the <c>mesh</c> section and Akka's).</summary>
    public static AttachedNode Start(Config config, LiveSettings? live = null)
    {
        var settings = NodeSettings.From(config);
        if (!settings.Attached.IsHost) throw new ConfigurationException("mesh.attach is empty: this node is a member, not an attached host");
        live ??= new LiveSettings(ReloadableSettings.From(settings, config));
        Directory.CreateDirectory(settings.DataDir);
        var tls = NodeTls.Load(settings.Tls);
        var key = NodeKey.LoadOrCreate(settings.DataDir);
        var system = ActorSystem.Create(NodeSettings.ActorSystemName,
            NodeTls.Setup(tls, NodeConfig.ForAttachedHost(settings, config)).And(DisassociatedErrorFilter.Setup));
        system.EventStream.SetLogLevel(live.Current.LogLevel);
        try
        {
            return new AttachedNode(settings, live, system, key);
        }
        catch
        {
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
            throw;
        }
    }

    public async ValueTask DisposeAsync() =>
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance);
}
