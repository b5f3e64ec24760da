using System.Text.Json.Nodes;

namespace Mesh.Protocol.Manifests;

/// <summary>A parsed, validated manifest: the unit a push replaces and a node applies.</summary>
public sealed record Manifest(
    string Name,
    TargetSpec Target,
    JsonObject Vars,
    IReadOnlyList<ResourceSpec> Resources)
{
    /// <summary>Some values are sealed secrets (envelopes), to be opened on the node just before applying.</summary>
    public bool HasSealedValues { get; init; }

    /// <summary>How a new revision reaches the nodes (the <c>rollout:</c> section); null: every node at once.</summary>
    public RolloutPolicy? Rollout { get; init; }

    /// <summary>The blobs the manifest's file <c>source</c>s name: pulled with its body, kept while it is.</summary>
    public IEnumerable<string> SourceHashes => Resources.OfType<FileResource>().Select(f => f.SourceHash).OfType<string>().Distinct();
}

/// <summary>
/// Which nodes a manifest is for. Every criterion that is given must hold; an empty one holds for all.
/// <see cref="Facts"/>: conditions on the node's facts, all of which must hold; a node whose facts
/// are not known (null) matches no target that has any.
/// </summary>
public sealed record TargetSpec(string[] Roles, Dictionary<string, string> Labels, string[] Nodes)
{
    public static TargetSpec All => new([], new Dictionary<string, string>(), []);

    public FactCondition[] Facts { get; init; } = [];

    /// <summary>Whether the target needs a node's facts to decide (it has a <c>facts:</c> section).</summary>
    public bool ReadsFacts => Facts.Length > 0;

    /// <summary>Matches a node by identity alone: a target with fact conditions matches none (see <see cref="Matches(NodeIdentity, System.Text.Json.Nodes.JsonObject?)"/>).</summary>
    public bool Matches(NodeIdentity node) => Matches(node, null);

    public bool Matches(NodeIdentity node, System.Text.Json.Nodes.JsonObject? facts) =>
        (Roles.Length == 0 || Roles.Any(node.Roles.Contains))
        && Labels.All(l => node.Labels.TryGetValue(l.Key, out var v) && v == l.Value)
        && (Nodes.Length == 0 || Nodes.Any(g => Glob.IsMatch(g, node.Name)))
        && Facts.All(f => f.Matches(facts));

    public override string ToString()
    {
        var parts = new List<string>();
        if (Roles.Length > 0) parts.Add("roles=" + string.Join(",", Roles));
        if (Labels.Count > 0) parts.Add("labels=" + string.Join(",", Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")));
        if (Nodes.Length > 0) parts.Add("nodes=" + string.Join(",", Nodes));
        if (Facts.Length > 0) parts.Add("facts=" + string.Join(",", Facts.Select(f => f.ToString())));
        return parts.Count == 0 ? "all" : string.Join(" ", parts);
    }
}

/// <summary>What a node is, as far as targeting cares.</summary>
public sealed record NodeIdentity(string Name, IReadOnlySet<string> Roles, IReadOnlyDictionary<string, string> Labels);

/// <summary>Present or absent: the two states every resource can be asked for.</summary>
public enum Ensure { Present, Absent }

/// <summary>
/// One declarative resource of a manifest. Each kind lives in its own file beside this one.
/// <see cref="Requires"/> lists every resource that must come first and <see cref="Notify"/>
/// every resource to refresh when this one changes: the parser folds <c>before</c> and
/// <c>subscribe</c> into these two, so the engine has one graph to follow.
/// </summary>
public abstract record ResourceSpec(string Id, string[] Requires)
{
    public string[] Notify { get; init; } = [];

    /// <summary>The kind name used in YAML (<c>type:</c>).</summary>
    public abstract string Kind { get; }

    /// <summary>The path this resource manages on the host, for kinds that manage one.</summary>
    public virtual string? ManagedPath => null;

    /// <summary>The kind-specific fields, for the canonical form.</summary>
    internal abstract void WriteFields(JsonObject into);
}
