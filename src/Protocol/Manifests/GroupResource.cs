using System.Text.Json.Nodes;

namespace Mesh.Protocol.Manifests;

/// <summary>
/// A Unix group of the node (<c>/etc/group</c> under its root). <c>gid</c> fixes its number;
/// without it a new group gets the next free one and an existing group keeps its own.
/// <c>members</c>, when given, is the exact list of users the group holds as supplementary
/// members: users missing are added, others removed, and <c>members: []</c> empties it.
/// Leaving <c>members</c> out leaves membership to others (e.g. the users' <c>groups</c>).
/// </summary>
public sealed record GroupResource(string Id, string[] Requires, string Name, Ensure Ensure, long? Gid)
    : ResourceSpec(Id, Requires)
{
    public const string KindName = "group";

    public override string Kind => KindName;

    /// <summary>The exact supplementary members, sorted; null when membership is not managed.</summary>
    public string[]? Members { get; init; }

    internal static ResourceSpec Parse(FieldReader f, string id, string[] requires)
    {
        var name = ResourceFields.AccountName(f, "group");
        var ensure = f.EnsureState();
        var gid = ResourceFields.AccountId(f, "gid");
        var members = ResourceFields.AccountNames(f, "members", "user");

        if (ensure == Ensure.Absent && (gid is not null || members is not null))
            f.Context.Error(f.Raw("ensure")!, f.Field("ensure"), "an absent group takes no gid or members");

        return new GroupResource(id, requires, name, ensure, gid) { Members = members };
    }

    internal override void WriteFields(JsonObject into)
    {
        into["name"] = Name;
        if (Ensure == Ensure.Absent) into["ensure"] = "absent";
        if (Gid is { } gid) into["gid"] = gid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (Members is not null) into["members"] = new JsonArray(Members.Select(m => (JsonNode?)JsonValue.Create(m)).ToArray());
    }
}
