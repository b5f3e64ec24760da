using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Facts;

/// <summary>
/// The fleet as templates see it, without the actor: the members with their published facts, and
/// the members that departed less than <paramref name="grace"/> ago (kept, marked departed, so a
/// node that flaps does not churn every configuration that lists it). Membership and facts go in,
/// a <see cref="FleetSnapshot"/> and a signature (what a template could see changed) come out.
/// </summary>
public sealed class FleetState(TimeSpan grace)
{
    private sealed record Member(NodeIdentity Identity, string Host, bool Reachable, DateTime? DepartedAt);

    private readonly Dictionary<string, Member> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FactsRecord> _published = new(StringComparer.Ordinal);

    public TimeSpan Grace => grace;

    /// <summary>The active members now; a member no longer among them departs at <paramref name="now"/>.</summary>
    public void SetMembers(IEnumerable<(NodeIdentity Identity, string Host, bool Reachable)> active, DateTime now)
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (identity, host, reachable) in active)
        {
            // A node restarted under its old name shows twice until its old incarnation is removed: the reachable one speaks for it.
            if (!present.Add(identity.Name) && !reachable) continue;
            _members[identity.Name] = new Member(identity, host, reachable, null);
        }
        foreach (var (name, member) in _members.ToArray())
            if (!present.Contains(name) && member.DepartedAt is null) _members[name] = member with { DepartedAt = now };
    }

    public void Publish(FactsRecord facts) => _published[facts.Node] = facts;

    /// <summary>Drops the members whose grace ran out; true when one was dropped.</summary>
    public bool Expire(DateTime now)
    {
        var gone = _members.Where(m => m.Value.DepartedAt is { } at && at + grace <= now).Select(m => m.Key).ToArray();
        foreach (var name in gone) _members.Remove(name);
        return gone.Length > 0;
    }

    /// <summary>When the next departed member is due to be dropped, or null when none is waiting.</summary>
    public DateTime? NextExpiry => _members.Values.Select(m => m.DepartedAt + grace).Min();

    /// <summary>Everything a template could see of the fleet, in one string: a change of it is a change of the fleet (uptime aside).</summary>
    public string Signature()
    {
        var text = new StringBuilder();
        foreach (var (name, m) in _members.OrderBy(m => m.Key, StringComparer.Ordinal))
            text.Append(name).Append('|').Append(m.Host).Append('|').Append(m.Reachable).Append('|').Append(m.DepartedAt is not null).Append('|')
                .AppendJoin(',', m.Identity.Roles.Order(StringComparer.Ordinal)).Append('|')
                .AppendJoin(',', m.Identity.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")).Append('|')
                .Append(_published.TryGetValue(name, out var f) ? f.Values : "").Append('\n');
        return text.ToString();
    }

    public FleetSnapshot Snapshot() => new(
        _members.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => Describe(m.Key, m.Value)).ToArray(),
        _members.Keys.Where(_published.ContainsKey).ToDictionary(n => n, n => _published[n], StringComparer.Ordinal));

    private JsonObject Describe(string name, Member member)
    {
        var values = _published.TryGetValue(name, out var f) ? Parse(f.Values) : new JsonObject();
        var entry = NodeFacts.View(name, member.Identity.Roles, member.Identity.Labels, values);
        entry["host"] = member.Host;
        entry["reachable"] = member.Reachable;
        entry["departed"] = member.DepartedAt is not null;
        return Entry(entry, entry);
    }

    /// <summary>
    /// A member's entry: its facts (<paramref name="facts"/>), with where it is and how it stands
    /// taken from <paramref name="membership"/>; without published facts its address is its host.
    /// </summary>
    public static JsonObject Entry(JsonObject membership, JsonObject facts)
    {
        var entry = ReferenceEquals(membership, facts) ? facts : (JsonObject)facts.DeepClone();
        foreach (var field in new[] { "host", "reachable", "departed" })
            entry[field] = membership[field]?.DeepClone();
        if (!entry.ContainsKey("addresses"))
            entry["addresses"] = new JsonArray(membership["host"] is { } host ? [host.DeepClone()] : []);
        return entry;
    }

    private static JsonObject Parse(string json)
    {
        try
        {
            return JsonNode.Parse(json) as JsonObject ?? new JsonObject();
        }
        catch (JsonException)
        {
            // A peer's malformed facts are no facts; its membership still counts.
            return new JsonObject();
        }
    }
}
