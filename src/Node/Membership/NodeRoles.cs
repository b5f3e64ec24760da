using Akka.Cluster;
using Mesh.Protocol.Manifests;

namespace Mesh.Node.Membership;

/// <summary>
/// A node's identity (name, roles, labels) rides in its Akka cluster roles, so every member
/// knows every other member's identity as soon as membership gossip says it is up, with no
/// extra replication: <c>mesh-name:web-1</c>, <c>role:web</c>, <c>label:env=prod</c>. Its public
/// encryption key (which secrets are sealed to) rides the same way: <c>mesh-key:&lt;base64&gt;</c>.
/// </summary>
public static class NodeRoles
{
    private const string NamePrefix = "mesh-name:";
    private const string RolePrefix = "role:";
    private const string LabelPrefix = "label:";
    private const string KeyPrefix = "mesh-key:";

    public static IEnumerable<string> Encode(string name, IEnumerable<string> roles, IReadOnlyDictionary<string, string> labels, byte[]? publicKey = null) =>
        new[] { NamePrefix + name }
            .Concat(roles.Select(r => RolePrefix + r))
            .Concat(labels.Select(l => $"{LabelPrefix}{l.Key}={l.Value}"))
            .Concat(publicKey is null ? [] : [KeyPrefix + Convert.ToBase64String(publicKey)]);

    /// <summary>The member's public encryption key (base64 SubjectPublicKeyInfo), or null for a node that publishes none.</summary>
    public static string? KeyOf(Member member) => KeyOf(member.Roles);

    /// <inheritdoc cref="KeyOf(Member)"/>
    public static string? KeyOf(IEnumerable<string> akkaRoles) =>
        akkaRoles.FirstOrDefault(r => r.StartsWith(KeyPrefix, StringComparison.Ordinal))?[KeyPrefix.Length..];

    public static NodeIdentity Decode(Member member) => Decode(member.Roles, member.Address.ToString());

    public static NodeIdentity Decode(IEnumerable<string> akkaRoles, string fallbackName)
    {
        string? name = null;
        var roles = new HashSet<string>(StringComparer.Ordinal);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var r in akkaRoles)
        {
            if (r.StartsWith(NamePrefix, StringComparison.Ordinal)) name = r[NamePrefix.Length..];
            else if (r.StartsWith(RolePrefix, StringComparison.Ordinal)) roles.Add(r[RolePrefix.Length..]);
            else if (r.StartsWith(LabelPrefix, StringComparison.Ordinal))
            {
                var kv = r[LabelPrefix.Length..];
                var eq = kv.IndexOf('=');
                if (eq > 0) labels[kv[..eq]] = kv[(eq + 1)..];
            }
        }
        return new NodeIdentity(name ?? fallbackName, roles, labels);
    }
}
