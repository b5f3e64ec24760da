using Mesh.Protocol.Manifests;
using System.Text.Json.Nodes;

namespace Mesh.Node.Facts;

/// <summary>
/// What this node knows of the fleet, for templates and targeting, swapped whole: its own facts
/// (set at start and by <see cref="FactsAgent"/>) and the latest <see cref="FleetSnapshot"/> (set by
/// <see cref="FleetWatcher"/>). Read from any thread.
/// </summary>
public sealed class FleetView(NodeFacts self)
{
    private volatile NodeFacts _self = self;
    private volatile FleetSnapshot _snapshot = FleetSnapshot.Empty;
    private volatile bool _joined;

    /// <summary>
    /// This node has joined the mesh (its member is Up), so the members it sees are the fleet's. Until
    /// then a template that reads <c>nodes</c> is not rendered: a restarting load balancer must not
    /// write a configuration that lists only itself.
    /// </summary>
    public bool Joined
    {
        get => _joined;
        set => _joined = value;
    }

    public NodeFacts Self
    {
        get => _self;
        set => _self = value;
    }

    public FleetSnapshot Snapshot
    {
        get => _snapshot;
        set => _snapshot = value;
    }

    private volatile AttachedView _attached = AttachedView.Empty;

    /// <summary>
    /// The attached hosts (not members: hosts a core peer serves, <c>Attached.AttachedHosts</c>), as
    /// the replicated registry holds them, by name: targets select them beside the members.
    /// </summary>
    public IReadOnlyList<Protocol.Wire.AttachedHostRecord> Attached
    {
        get => _attached.Hosts;
        set => _attached = new AttachedView(value, value.Select(h => Membership.NodeRoles.Decode(h.Identity, h.Name)).ToArray());
    }

    /// <summary>The attached hosts' identities, as targets match them.</summary>
    public IReadOnlyList<NodeIdentity> AttachedIdentities => _attached.Identities;

    private sealed record AttachedView(IReadOnlyList<Protocol.Wire.AttachedHostRecord> Hosts, IReadOnlyList<NodeIdentity> Identities)
    {
        public static readonly AttachedView Empty = new([], []);
    }

    /// <summary>The facts a target is matched against: this node's own, else the ones it published; null when not known (yet).</summary>
    public JsonObject? FactsOf(string node) => node == _self.Name ? _self.ToJson() : _snapshot.FactsOf(node);

    /// <summary>The replicated record of a node's facts, this node's own as it is now.</summary>
    public (JsonObject? Facts, string[] Errors) Describe(string node) =>
        node == _self.Name ? (_self.ToJson(), _self.Errors) : (_snapshot.FactsOf(node), _snapshot.ErrorsOf(node));

    /// <summary>The <c>nodes</c> of templates: every member (and every departed one within the grace), sorted by name; this node with its current facts.</summary>
    public JsonArray Nodes()
    {
        var self = _self;
        var nodes = _snapshot.Nodes.Select(n => n["name"]?.GetValue<string>() == self.Name ? FleetState.Entry(n, self.ToJson()) : n.DeepClone()).ToList();
        if (!_snapshot.Has(self.Name))
        {
            // Before the first snapshot (or offline and alone): the fleet is this node.
            var alone = self.ToJson();
            alone["host"] = "";
            alone["reachable"] = true;
            alone["departed"] = false;
            nodes.Add(alone);
        }
        return new JsonArray(nodes.OrderBy(n => n!["name"]!.GetValue<string>(), StringComparer.Ordinal).ToArray());
    }
}

/// <summary>The members and their published facts at one moment (see <see cref="FleetState"/>).</summary>
public sealed record FleetSnapshot(IReadOnlyList<JsonObject> Nodes, IReadOnlyDictionary<string, Protocol.Wire.FactsRecord> Published)
{
    public static readonly FleetSnapshot Empty = new([], new Dictionary<string, Protocol.Wire.FactsRecord>());

    private readonly Dictionary<string, JsonObject> _byName =
        Nodes.ToDictionary(n => n["name"]?.GetValue<string>() ?? "", StringComparer.Ordinal);

    /// <summary>A member's entry when it published facts (a copy); null when it did not, or is no member.</summary>
    public JsonObject? FactsOf(string node) => Published.ContainsKey(node) && _byName.TryGetValue(node, out var entry)
        ? (JsonObject)entry.DeepClone()
        : null;

    public bool Has(string node) => _byName.ContainsKey(node);

    public string[] ErrorsOf(string node) => Published.TryGetValue(node, out var r) ? r.Errors : [];
}
