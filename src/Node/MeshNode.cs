using System.Threading.Channels;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.DistributedData;
using Mesh.Node.Api;
using Akka.Event;
using Mesh.Node.Audit;
using Mesh.Node.Configuration;
using Mesh.Node.Content;
using Mesh.Node.Facts;
using Mesh.Node.Converge;
using Mesh.Node.Membership;
using Mesh.Node.Observability;
using Mesh.Node.Operations;
using Mesh.Node.Providers;
using Mesh.Node.Replication;
using Mesh.Node.Security;
using Mesh.Node.Tasks;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;

namespace Mesh.Node;

/// <summary>
/// One running Mesh node, wired: the cluster member, its replicated store, content store,
/// actors (converger, planner, content server, event hub, audit server, connectivity and
/// pause watches) and the operations the control API offers (<see cref="Revisions"/>,
/// <see cref="Queries"/>, <see cref="Fleet"/>). It holds no operation of its own.
/// </summary>
public sealed class MeshNode : IAsyncDisposable
{
    private readonly IActorRef _events;

    public NodeSettings Settings { get; }
    /// <summary>What a reload (SIGHUP) may change while the node runs; read at each use.</summary>
    public LiveSettings Live { get; }
    /// <summary>Member Up and caught up with the index: <c>/readyz</c> and the systemd notification.</summary>
    public Service.Readiness Readiness { get; }
    public ActorSystem System { get; }
    public Cluster Cluster { get; }
    public ReplicatedStore Store { get; }
    public ContentStore Content { get; }
    public ContentFetcher Fetcher { get; }
    public HybridClock Clock { get; }
    /// <summary>How far the peers' clocks are from this node's, and the correction its versions are stamped with.</summary>
    public ClockOffsets ClockOffsets { get; }
    public NodeIdentity Identity { get; }
    public AuditLog Audit { get; }
    public Connectivity Connectivity { get; }
    /// <summary>Set when this node was refused because its name is another member's.</summary>
    public NameRefusal NameRefusal { get; }
    /// <summary>This node's instruments, served at <c>GET /metrics</c>.</summary>
    public MeshMetrics Metrics { get; }
    /// <summary>This node's TLS between nodes; null when it is off.</summary>
    public NodeTls? Tls { get; private init; }

    /// <summary>The fast path to every member: announcements, reports, rollout steps (<see cref="Replication.Topics"/>).</summary>
    public IActorRef Topics { get; }

    /// <summary>This node's facts and the fleet's, for templates and fact targets.</summary>
    public FleetView FleetView { get; }

    /// <summary>Push, delete, rollback.</summary>
    public Revisions Revisions { get; }
    /// <summary>Whether a change is held by its quorum, and the ones accepted here while not replicated.</summary>
    public Acknowledgements Acks { get; }
    /// <summary>Members, manifests, history, status: answered from this node's replica.</summary>
    public Queries Queries { get; }

    public RolloutOperations Rollouts { get; }
    /// <summary>Dry run, converge, audit: answered by asking other members.</summary>
    public FleetOperations Fleet { get; }
    public BlobCollector Blobs { get; }
    /// <summary>Post, list, cancel tasks; fetch a node's kept output.</summary>
    public Operations.Tasks Tasks { get; }

    private MeshNode(NodeSettings settings, LiveSettings live, ActorSystem system, NodeKey key, Connectivity connectivity, NameRefusal refusal)
    {
        Settings = settings;
        Live = live;
        System = system;
        Connectivity = connectivity;
        NameRefusal = refusal;
        Cluster = Cluster.Get(system);
        Identity = new NodeIdentity(settings.Name, settings.Roles.ToHashSet(StringComparer.Ordinal), settings.Labels);
        var shift = (long)settings.Clock.Offset.TotalMilliseconds;
        ClockOffsets = new ClockOffsets(settings.Name, settings.Clock.MaxSkew, () => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + shift);
        Clock = new HybridClock(settings.Name, ClockOffsets.Now);
        Directory.CreateDirectory(settings.Root);
        Content = new ContentStore(settings.DataDir, warning => system.Log.Warning(warning));
        Audit = new AuditLog(settings.DataDir, settings.Name, settings.AuditRotation);
        Metrics = new MeshMetrics(() => Cluster.State);
        Store = new ReplicatedStore(DistributedData.Get(system).Replicator, Cluster.SelfUniqueAddress, Metrics, settings.StoreTimeout);
        Fetcher = new ContentFetcher(system, Content, settings.ChunkSize, settings.FetchTimeout, settings.MaxBlobSize, Metrics);
        var loader = new RevisionLoader(Fetcher, Cluster);
        // Gathered before anything decides whether a manifest targets this node.
        FleetView = new FleetView(NodeFacts.Gather(Identity, settings.Facts.Directory, settings.Facts.Timeout));

        var topics = Topics = system.ActorOf(Replication.Topics.Props(), Replication.Topics.Name);
        Rollouts = new RolloutOperations(settings, Cluster, Store, Clock, Audit, topics, FleetView);
        Acks = new Acknowledgements(system, Cluster, Connectivity, Store, new ContentHolders(system, Cluster.SelfAddress.ToString(), settings.HoldFanOut), settings.AckTimeout, settings.HistoryKeep);
        Revisions = new Revisions(settings, live, Cluster, Store, Content, loader, Clock, Audit, topics, FleetView, Rollouts, Acks);
        Queries = new Queries(settings.Name, Cluster, Store, loader, Revisions, Connectivity, FleetView, Acks, ClockOffsets);
        Fleet = new FleetOperations(new FleetRequest(system, Cluster), Revisions, Clock);
        Blobs = new BlobCollector(settings.Name, Store, Content, Audit, system.Log);
        Tasks = new Operations.Tasks(settings, live, Cluster, Store, Clock, Audit, new FleetRequest(system, Cluster), FleetView);

        system.ActorOf(ContentServer.Props(Content, ContentServer.MaxChunk, Metrics, Fetcher, settings.Name, settings.FetchTimeout * 0.8, Cluster), ContentServer.Name);
        _events = system.ActorOf(EventHub.Props(Store, topics), EventHub.Name);
        var context = ApplyContextOf(settings, FleetView, Content, key);
        var setup = new ConvergerSetup(
            Identity, context, loader, Store, Audit, ApplyEngine.Default(), Clock, settings.Announce,
            FetchBackoff.Until(settings.FetchDeadline), settings.WatchPaths, live, new ConvergeProgress(), Metrics, topics);
        Readiness = new Service.Readiness(system, Cluster, Store, setup.Progress);
        var converger = system.ActorOf(Converger.Props(setup), Converger.Name);
        system.ActorOf(FactsAgent.Props(Identity, settings.Facts, FleetView, Store, converger), FactsAgent.Name);
        system.ActorOf(FleetWatcher.Props(FleetView, Store, converger, settings.Facts.DepartureGrace), FleetWatcher.Name);
        system.ActorOf(Akka.Actor.Props.Create(() => new AuditServer(Audit, settings.Name)), AuditServer.Name);
        system.ActorOf(Planner.Props(setup), Planner.Name);
        system.ActorOf(TaskRunner.Props(new TaskRunnerSetup(Identity, settings.Tasks, live, Store, new TaskJournal(settings.DataDir),
            new TaskOutputs(settings.DataDir, settings.Tasks.KeepOutputs), Audit, key, Cluster, FleetView)), TaskRunner.Name);
        var collection = system.Scheduler.Advanced.ScheduleRepeatedlyCancelable(settings.GcInterval, settings.GcInterval,
            () => Blobs.CollectAsync(settings.GcGrace).ContinueWith(t => system.Log.Warning("blob collection failed: {0}", t.Exception?.GetBaseException().Message),
                TaskContinuationOptions.OnlyOnFaulted));
        // The scheduler runs what is still pending when the system stops: cancel it before then.
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "stop-blob-collection", () =>
        {
            collection.Cancel();
            return Task.FromResult(Akka.Done.Instance);
        });
        var attached = system.ActorOf(Attached.AttachedHosts.Props(new Attached.AttachedHostsSetup(settings.Name, Cluster.SelfAddress.ToString(),
            Store, loader, topics, FleetView, settings.Attached.Serve, settings.Attached.KeepAlive, settings.HoldFanOut)), Attached.AttachedHosts.Name);
        // A core peer: attached hosts reach its service through Akka's receptionist (which brings Akka's pub-sub with it).
        if (settings.Attached.Serve) Akka.Cluster.Tools.Client.ClusterClientReceptionist.Get(system).RegisterService(attached);
        system.ActorOf(ClockWatch.Props(ClockOffsets, settings.Clock.ProbeInterval), ClockWatch.Name);
        system.ActorOf(ConnectivityMonitor.Props(Connectivity, standalone: settings.Seeds.Length == 0), ConnectivityMonitor.Name);
        system.ActorOf(PauseWatch.Props(PauseWatch.Limit(system.Settings.Config)), PauseWatch.Name);
        system.ActorOf(CrashWatch.Props(), CrashWatch.Name);
        // A node that just joined has an empty replica until a gossip round fills it (up to a
        // second): once Up, it reads the index from a majority, which writes what it lacks into
        // its replica at once (read repair), and the converger hears of it as of any change.
        Cluster.RegisterOnMemberUp(() => Store.IndexAsync(new ReadMajority(CatchUpTimeout)).ContinueWith(
            t => system.Log.Info("index not read from a majority on joining ({0}); gossip brings it", t.Exception?.GetBaseException().Message),
            TaskContinuationOptions.OnlyOnFaulted));
    }

    /// <summary>Where and how this node's applies run: its root, facts and fleet, content store, backups, pending refreshes, key (a member's and an attached host's alike).</summary>
    public static ApplyContext ApplyContextOf(NodeSettings settings, FleetView fleet, ContentStore content, NodeKey key) => new(settings.Root)
    {
        Facts = fleet.Self,
        Fleet = fleet,
        Content = content,
        BackupDir = Path.Combine(settings.DataDir, "backups"),
        BackupCount = settings.Backups,
        Refreshes = new PendingRefreshes(Path.Combine(settings.DataDir, "refresh")),
        Key = key,
    };

    /// <summary>How long the index read on joining may take (<see cref="Cluster.RegisterOnMemberUp"/> above).</summary>
    private static readonly TimeSpan CatchUpTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Starts a node from a full configuration (the <c>mesh</c> section and Akka's).</summary>
    /// <param name="live">the reloadable settings, kept across incarnations; null: read from <paramref name="config"/></param>
    public static MeshNode Start(Config config, LiveSettings? live = null)
    {
        var settings = NodeSettings.From(config);
        live ??= new LiveSettings(ReloadableSettings.From(settings, config));
        Directory.CreateDirectory(settings.DataDir);
        var tls = NodeTls.Load(settings.Tls);
        var key = NodeKey.LoadOrCreate(settings.DataDir);
        var system = ActorSystem.Create(NodeSettings.ActorSystemName,
            NodeTls.Setup(tls, NodeConfig.ForAkka(settings, config, key.PublicKey)).And(DisassociatedErrorFilter.Setup));
        // Before any actor makes its logger: a log level reloaded in an earlier incarnation holds in this one.
        system.EventStream.SetLogLevel(live.Current.LogLevel);
        // The join first: it waits on the seeds, the leader and gossip, and the node's own parts
        // (facts gathered, actors started, then the control API) are made meanwhile. A
        // message that reaches one of them before it exists is lost like one sent to a node that
        // is down, and the replicated data covers it. The replicator starts now too, so that its
        // durable keys are loaded by the time the node is Up.
        DistributedData.Get(system);
        var cluster = Cluster.Get(system);
        var connectivity = new Connectivity(DateTimeOffset.UtcNow);
        var refusal = new NameRefusal();
        var seeds = new SeedAnswers(cluster.SelfAddress.ToString(), settings.Seeds.Select(s => Address.Parse(s).ToString()), DateTimeOffset.UtcNow);
        connectivity.Probing(seeds);
        // Before the join: a restart on the same address tells the members its new uid (SeedProbe).
        system.ActorOf(SeedProbe.Props(settings.Name, seeds), SeedProbe.Name);
        system.ActorOf(Admission.Props(), Admission.Name);
        // The guard joins, once the seeds said the name is free (NameGuard).
        system.ActorOf(NameGuard.Props(settings.Name, settings.Seeds.Select(Address.Parse).ToArray(), refusal), NameGuard.Name);
        try
        {
            return new MeshNode(settings, live, system, key, connectivity, refusal) { Tls = tls };
        }
        catch (Exception e)
        {
            // Stopped by Akka meanwhile (a TLS handshake the join started failed): that is the news.
            var shutdown = CoordinatedShutdown.Get(system);
            if (shutdown.ShutdownReason is { } stopped) throw new NodeStoppedException(stopped, e);
            // Joined or joining already: leave rather than linger until the others down it.
            shutdown.Run(CoordinatedShutdown.ClrExitReason.Instance).Wait(TimeSpan.FromSeconds(10));
            throw;
        }
    }

    /// <summary>A live feed of events (revisions, reports, membership) until <paramref name="cancel"/> fires.</summary>
    public ChannelReader<MeshEvent> Listen(CancellationToken cancel) => EventHub.Feed(_events, cancel);

    /// <summary>Leaves the cluster gracefully and stops the actor system.</summary>
    public async ValueTask DisposeAsync() =>
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance);
}
