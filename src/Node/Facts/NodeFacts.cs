using System.Text.Json.Nodes;
using Mesh.Protocol.Manifests;

namespace Mesh.Node.Facts;

/// <summary>
/// What a node knows about itself: its name, roles and labels, the host's facts (<see cref="HostFacts"/>)
/// and its custom facts (<see cref="CustomFacts"/>), with the problems met while gathering them.
/// Templates see it as <c>{{ node.* }}</c>, targets match <c>facts:</c> against it, and it is
/// replicated (<see cref="Protocol.Wire.FactsRecord"/>) for the other nodes' templates and target lists.
/// </summary>
public sealed record NodeFacts(string Name, string[] Roles, IReadOnlyDictionary<string, string> Labels, JsonObject Values)
{
    /// <summary>Facts that could not be gathered (a custom fact that failed, timed out or did not parse).</summary>
    public string[] Errors { get; init; } = [];

    /// <summary>The names a custom fact may not take: the node's identity and the host facts.</summary>
    public static readonly IReadOnlySet<string> Reserved = new HashSet<string>(["name", "roles", "labels", "uptime_s", .. HostFacts.Names], StringComparer.Ordinal);

    /// <summary>
    /// The most a node's published facts may take (as JSON): with 32 shards, even a shard that
    /// holds twice its share of 1 000 nodes stays below the 128 000-byte remoting frame at the usual
    /// size, and a node with too many custom facts loses its custom facts, not its membership of the shard.
    /// </summary>
    public const int MaxBytes = 2048;

    public static NodeFacts Minimal(string name) => new(name, [], new Dictionary<string, string>(), new JsonObject());

    /// <summary>Gathers this host's facts and the custom facts of <paramref name="directory"/> (null: none).</summary>
    public static NodeFacts Gather(NodeIdentity identity, string? directory = null, TimeSpan? timeout = null)
    {
        var values = HostFacts.Gather();
        var errors = new List<string>();
        if (directory is not null)
        {
            var custom = CustomFacts.Read(directory, timeout ?? CustomFacts.DefaultTimeout);
            errors.AddRange(custom.Errors);
            foreach (var (key, value) in custom.Values)
            {
                if (Reserved.Contains(key)) errors.Add($"custom fact '{key}' ({custom.Origin[key]}) is ignored: the name is a built-in fact");
                else values[key] = value?.DeepClone();
            }
            if (values.ToJsonString().Length > MaxBytes)
            {
                foreach (var key in custom.Values.Select(kv => kv.Key).Where(k => !Reserved.Contains(k))) values.Remove(key);
                errors.Add($"custom facts are ignored: with them this node's facts would take more than {MaxBytes} bytes");
            }
        }
        return new NodeFacts(identity.Name, identity.Roles.Order(StringComparer.Ordinal).ToArray(), identity.Labels, values) { Errors = errors.ToArray() };
    }

    /// <summary>
    /// The facts as templates and targets see them: name, roles, labels, then every gathered fact,
    /// plus <c>uptime_s</c>, worked out from <c>boot_time</c> now (so that the replicated facts do not change every second).
    /// </summary>
    public JsonObject ToJson() => View(Name, Roles, Labels, Values);

    /// <summary>The same view of facts another node published (its replicated values), under the identity its membership gives.</summary>
    public static JsonObject View(string name, IEnumerable<string> roles, IReadOnlyDictionary<string, string> labels, JsonObject values)
    {
        var json = new JsonObject
        {
            ["name"] = name,
            ["roles"] = new JsonArray(roles.Order(StringComparer.Ordinal).Select(r => (JsonNode?)r).ToArray()),
            ["labels"] = new JsonObject(labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
        };
        foreach (var (key, value) in values)
            if (!json.ContainsKey(key)) json[key] = value?.DeepClone();
        if (values["boot_time"] is JsonValue boot && boot.TryGetValue<long>(out var bootSeconds) && bootSeconds > 0)
            json["uptime_s"] = Math.Max(0, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - bootSeconds);
        return json;
    }
}
