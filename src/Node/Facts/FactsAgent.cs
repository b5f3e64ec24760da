using Akka.Actor;
using Akka.Event;
using Mesh.Node.Configuration;
using Mesh.Node.Replication;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Facts;

/// <summary>
/// Gathers this node's facts again every <c>mesh.facts.refresh-interval</c> (off the actor's
/// thread: custom facts run programs), and when they changed makes them this node's
/// (<see cref="FleetView.Self"/>), publishes them (<see cref="ReplicatedStore.PutFacts"/>) and
/// tells the converger. Facts that did not change are not written, so a quiet fleet gossips
/// nothing new. A custom fact that fails is logged when it starts failing, never fatal.
/// </summary>
public sealed class FactsAgent : ReceiveActor, IWithTimers
{
    public const string Name = "facts";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private FactsRecord? _published;

    public ITimerScheduler Timers { get; set; } = null!;

    private readonly FactsSettings _settings;
    private readonly FleetView _view;

    public FactsAgent(NodeIdentity identity, FactsSettings settings, FleetView view, ReplicatedStore store, IActorRef converger)
    {
        _settings = settings;
        _view = view;
        Receive<Refresh>(_ => Task.Run(() => NodeFacts.Gather(identity, settings.Directory, settings.Timeout)).PipeTo(Self,
            failure: e => new Failed(e.GetBaseException().Message)));
        Receive<NodeFacts>(facts =>
        {
            var record = Record(facts);
            if (_published is { } old && old.Values == record.Values && old.Errors.SequenceEqual(record.Errors)) return;
            foreach (var error in record.Errors.Except(_published?.Errors ?? [])) _log.Warning("facts: {0}", error);
            var first = _published is null;
            _published = record;
            view.Self = facts;
            store.PutFacts(record);
            if (!first) converger.Tell(FleetChanged.Own);
        });
        Receive<Failed>(f => _log.Warning("facts: gathering failed: {0}", f.Reason));
    }

    /// <summary>The facts gathered at start are published at once; then gathered again every interval.</summary>
    protected override void PreStart()
    {
        Self.Tell(_view.Self);
        Timers.StartPeriodicTimer("refresh", Refresh.Instance, _settings.RefreshInterval);
    }

    public static FactsRecord Record(NodeFacts facts) => new(facts.Name, facts.Values.ToJsonString(), facts.Errors);

    private sealed class Refresh
    {
        public static readonly Refresh Instance = new();
    }

    private sealed record Failed(string Reason);

    public static Props Props(NodeIdentity identity, FactsSettings settings, FleetView view, ReplicatedStore store, IActorRef converger) =>
        Akka.Actor.Props.Create(() => new FactsAgent(identity, settings, view, store, converger));
}
