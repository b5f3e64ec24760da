using Akka.Cluster;
using static Akka.Cluster.ClusterEvent;
using Mesh.Protocol.Wire;
using Prometheus;

namespace Mesh.Node.Observability;

/// <summary>
/// This node's Prometheus instruments, served at <c>GET /metrics</c>. Each node has a registry of
/// its own rather than prometheus-net's global one: tests run several nodes in one process, and
/// a new incarnation (<see cref="NodeLifetime"/>) starts its counters from zero, which Prometheus
/// reads as a restart. Labels stay bounded: by manifest (the fleet's manifests), result,
/// member status and store operation, never by version or by another host.
/// </summary>
public sealed class MeshMetrics
{
    private readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    private readonly Counter _received;
    private readonly Counter _applies;
    private readonly Histogram _applyDuration;
    private readonly Histogram _pushToApplied;
    private readonly Counter _driftRepairs;
    private readonly Gauge _members;
    private readonly Gauge _unreachable;
    private readonly Counter _fetched;
    private readonly Counter _served;
    private readonly Histogram _store;
    private readonly Gauge _resident;

    /// <param name="cluster">This node's view of the cluster, read at each scrape.</param>
    public MeshMetrics(Func<CurrentClusterState> cluster)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(_registry);
        _received = factory.CreateCounter("mesh_revisions_received_total",
            "Revisions new to this node that target it, heard from the index or the change topic.", "manifest");
        _applies = factory.CreateCounter("mesh_applies_total",
            "Reports this node published, by result (ok, failed, rejected, pending): the apply of a new revision, a rejection, " +
            "a revision still waiting for its body (pending, again when the reason changed), " +
            "or a re-check that repaired drift or changed outcome. Quiet re-checks are not counted.", "manifest", "result");
        _applyDuration = factory.CreateHistogram("mesh_apply_duration_seconds",
            "Time an apply or reported re-check took on this node, fetching the body included; rejections and pending reports are not timed.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.005, 2, 18) });
        _pushToApplied = factory.CreateHistogram("mesh_push_to_applied_seconds",
            "Time from a push (the revision's time on the node that took it) to its successful apply here. " +
            "Hosts' clocks may differ: a negative difference is counted as 0.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.01, 2, 15) });
        _driftRepairs = factory.CreateCounter("mesh_drift_repairs_total",
            "Re-checks that found the host changed behind Mesh's back and repaired it.", "manifest");
        _members = factory.CreateGauge("mesh_cluster_members",
            "Members of the cluster by status, as this node sees them.", "status");
        _unreachable = factory.CreateGauge("mesh_cluster_members_unreachable",
            "Members this node's failure detector marks unreachable (they also count under their status in mesh_cluster_members).");
        _fetched = factory.CreateCounter("mesh_content_fetched_bytes_total",
            "Bytes of content (manifest bodies, source files) this node received from peers.");
        _served = factory.CreateCounter("mesh_content_served_bytes_total",
            "Bytes of content this node served to peers pulling it.");
        _store = factory.CreateHistogram("mesh_store_request_duration_seconds",
            "Time this node's replicated store took to answer a read or a write (durable store included; a timeout counts its full wait).",
            new HistogramConfiguration { LabelNames = ["operation"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 15) });
        // prometheus-net calls it process_working_set_bytes; dashboards and alerts expect the name
        // every other Prometheus client's process collector uses.
        _resident = factory.CreateGauge("process_resident_memory_bytes", "Resident memory size in bytes.");

        // process_* (CPU, memory, threads, handles) and dotnet_* (collections by generation, heap size).
        DotNetStats.Register(_registry);
        _registry.AddBeforeCollectCallback(() =>
        {
            var state = cluster();
            foreach (var status in Enum.GetValues<MemberStatus>())
                _members.WithLabels(Label(status)).Set(state.Members.Count(m => m.Status == status));
            _unreachable.Set(state.Unreachable.Count);
            _resident.Set(Environment.WorkingSet);
        });
    }

    /// <summary>A revision that targets this node, new to it.</summary>
    public void Received(RevisionRecord revision) => _received.WithLabels(revision.Manifest).Inc();

    /// <summary>A report this node published (see <see cref="Converge.Converger"/>).</summary>
    public void Reported(ApplyReport report)
    {
        _applies.WithLabels(report.Manifest, report.Outcome.ToString().ToLowerInvariant()).Inc();
        if (report.Outcome is not (ApplyOutcome.Rejected or ApplyOutcome.Pending)) _applyDuration.Observe(report.DurationMs / 1000.0);
        if (report.Drift) _driftRepairs.WithLabels(report.Manifest).Inc();
    }

    /// <summary>A new revision's apply ended: how long after its push, when it succeeded.</summary>
    public void Applied(RevisionRecord revision, ApplyReport report)
    {
        if (report.Succeeded) _pushToApplied.Observe(Math.Max(0, (report.Time - revision.Time).TotalSeconds));
    }

    public void Fetched(int bytes) => _fetched.Inc(bytes);

    public void Served(int bytes) => _served.Inc(bytes);

    /// <summary>Bytes of content this node has served to peers since it started.</summary>
    public double ServedBytes => _served.Value;

    /// <summary>Times one request to the replicated store until disposed; <paramref name="operation"/> is <c>read</c> or <c>write</c>.</summary>
    public IDisposable TimeStore(string operation) => _store.WithLabels(operation).NewTimer();

    /// <summary>Every metric, in Prometheus' text exposition format.</summary>
    public Task WriteAsync(Stream output, CancellationToken cancel) => _registry.CollectAndExportAsTextAsync(output, cancel);

    /// <summary>WeaklyUp → weakly_up: Prometheus label values by convention.</summary>
    private static string Label(MemberStatus status) =>
        string.Concat(status.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
