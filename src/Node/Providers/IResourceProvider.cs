using System.Text.Json.Nodes;
using Mesh.Node.Content;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

using Mesh.Node.Facts;

namespace Mesh.Node.Providers;

/// <summary>
/// One resource kind's knowledge of the host. <see cref="CheckApply"/> inspects the current
/// state and says what differs; with <c>apply</c> it also changes it. The dry run is the
/// same code with <c>apply = false</c>, so it cannot drift from the real thing. A provider that
/// runs a host tool kills it when <c>cancel</c> fires and lets the
/// <see cref="OperationCanceledException"/> through.
/// </summary>
public interface IResourceProvider
{
    string Kind { get; }

    ProviderResult CheckApply(ResourceSpec resource, ApplyContext context, bool apply, CancellationToken cancel);
}

/// <summary>
/// A kind that reacts to a change of a resource that notifies it (a service restarts, a
/// refresh-only command runs). Called after <see cref="IResourceProvider.CheckApply"/>.
/// </summary>
public interface IRefreshable
{
    ProviderResult Refresh(ResourceSpec resource, ApplyContext context, bool apply, CancellationToken cancel);
}

/// <summary>What a provider found (and did, when applying). <see cref="Detail"/>: a diff, an output tail.</summary>
public sealed record ProviderResult(ResourceAction Action, string? Message = null, string? Detail = null)
{
    public static readonly ProviderResult Unchanged = new(ResourceAction.Unchanged);

    public bool IsChange => Action is ResourceAction.Created or ResourceAction.Changed or ResourceAction.Removed;
}

/// <summary>
/// Where and for whom a manifest is applied: the node's root, the manifest's variables, the
/// node's facts (for templates), the content store (for file sources), and where replaced
/// files are kept.
/// </summary>
public sealed record ApplyContext(string Root)
{
    public string Manifest { get; init; } = "";
    public JsonObject Vars { get; init; } = new();
    public NodeFacts Facts { get; init; } = NodeFacts.Minimal("node");

    /// <summary>The node's live view of itself and the fleet (templates' <c>node</c> and <c>nodes</c>); null: <see cref="Facts"/> alone, a fleet of one.</summary>
    public FleetView? Fleet { get; init; }
    public ContentStore? Content { get; init; }

    /// <summary>Replaced file content is kept under here, per file, newest last.</summary>
    public string? BackupDir { get; init; }

    /// <summary>How many replaced versions of one file are kept.</summary>
    public int BackupCount { get; init; } = 5;

    /// <summary>This node's key, which opens the manifest's sealed secrets just before it is applied; null: none can be opened.</summary>
    public Security.NodeKey? Key { get; init; }

    /// <summary>
    /// Paths the node's other manifests hold, with the manifest that holds each: a purge leaves
    /// them alone, and this manifest's resource on one of them fails (two manifests never take
    /// turns at one file).
    /// </summary>
    public IReadOnlyDictionary<string, string> ManagedElsewhere { get; init; } = new Dictionary<string, string>();

    /// <summary>True on a re-check of what is enforced (not the apply of a revision): a command without guards does not run again.</summary>
    public bool Recheck { get; init; }

    /// <summary>Refreshes notified but not yet done (the refresh failed, or never ran): tried again on the next run; null: not remembered.</summary>
    public Converge.PendingRefreshes? Refreshes { get; init; }

    /// <summary>Every path managed on this node, this manifest's included (set by <see cref="For"/>).</summary>
    public IReadOnlySet<string> Managed { get; private init; } = new HashSet<string>();

    private RootedPath? _paths;

    /// <summary>The host path of a manifest path, confined to the root (see <see cref="RootedPath"/>).</summary>
    public string Resolve(string manifestPath) => (_paths ??= new RootedPath(Root)).Resolve(manifestPath);

    /// <summary>The context for one run of one manifest (fresh path checks: the host may have changed since the last run).</summary>
    public ApplyContext For(Manifest manifest) => this with
    {
        Manifest = manifest.Name,
        Vars = manifest.Vars,
        Managed = manifest.Resources.Select(r => r.ManagedPath).OfType<string>().Concat(ManagedElsewhere.Keys).ToHashSet(StringComparer.Ordinal),
        _paths = null,
    };
}

/// <summary>A resource could not be brought to its desired state; the message says why.</summary>
public sealed class ResourceException(string message) : Exception(message);
