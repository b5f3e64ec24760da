using System.Globalization;
using System.Text.Json.Nodes;

namespace Mesh.Protocol.Manifests;

/// <summary>
/// A Unix user of the node (<c>/etc/passwd</c> under its root). Each field that is given is
/// enforced; one left out is left as it is (or, for a new user, to the node's defaults):
/// <c>uid</c>; the primary group, as <c>group</c> (a name or a number) or <c>gid</c> (a
/// number); <c>groups</c>, the exact supplementary groups (<c>[]</c>: none); <c>home</c>,
/// <c>shell</c>, <c>comment</c> (the GECOS field). <c>system: true</c> creates a system account
/// (an id from the system range, no home directory); it only matters when the user is created.
/// <para>
/// The home directory is a field of the account, nothing more: Mesh neither creates nor moves
/// it (declare it as a directory), and removing a user keeps its files.
/// </para>
/// </summary>
public sealed record UserResource(string Id, string[] Requires, string Name, Ensure Ensure)
    : ResourceSpec(Id, Requires)
{
    public const string KindName = "user";

    public override string Kind => KindName;

    public long? Uid { get; init; }

    /// <summary>The primary group: a group name, or a gid in decimal.</summary>
    public string? Group { get; init; }

    /// <summary>The exact supplementary groups, sorted; null when they are not managed.</summary>
    public string[]? Groups { get; init; }

    public string? Home { get; init; }
    public string? Shell { get; init; }

    /// <summary>The GECOS field (usually the person's full name).</summary>
    public string? Comment { get; init; }

    /// <summary>Create it as a system account.</summary>
    public bool System { get; init; }

    internal static ResourceSpec Parse(FieldReader f, string id, string[] requires)
    {
        var name = ResourceFields.AccountName(f, "user");
        var ensure = f.EnsureState();
        var uid = ResourceFields.AccountId(f, "uid");
        var group = PrimaryGroup(f);
        var groups = ResourceFields.AccountNames(f, "groups", "group");
        var home = AccountPath(f, "home");
        var shell = AccountPath(f, "shell");
        var comment = f.String("comment");
        if (comment is not null && comment.IndexOfAny([':', '\n', '\r', '\0']) >= 0)
        {
            f.Context.Error(f.Raw("comment")!, f.Field("comment"), "must not contain ':' or a line break (it is a field of /etc/passwd)");
            comment = null;
        }
        var system = f.Bool("system") ?? false;

        if (ensure == Ensure.Absent && (uid is not null || group is not null || groups is not null || home is not null
                || shell is not null || comment is not null || system))
            f.Context.Error(f.Raw("ensure")!, f.Field("ensure"), "an absent user takes no uid, gid, group, groups, home, shell, comment or system");

        return new UserResource(id, requires, name, ensure)
        {
            Uid = uid,
            Group = group,
            Groups = groups,
            Home = home,
            Shell = shell,
            Comment = comment,
            System = system,
        };
    }

    /// <summary><c>gid</c> (a number) or <c>group</c> (a name or a number): one field for one thing, so both are one <c>group</c>.</summary>
    private static string? PrimaryGroup(FieldReader f)
    {
        var gid = ResourceFields.AccountId(f, "gid");
        var group = f.String("group");
        if (group is not null && gid is not null)
        {
            f.Context.Error(f.Raw("group")!, f.Field("group"), "give the primary group as gid or as group, not both");
            return null;
        }
        if (gid is { } number) return number.ToString(CultureInfo.InvariantCulture);
        if (group is null) return null;
        if (group.Length > 0 && group.All(char.IsAsciiDigit)) return ResourceFields.AccountId(f, "group", "gid")?.ToString(CultureInfo.InvariantCulture);
        if (ResourceFields.IsAccountName(group)) return group;
        f.Context.Error(f.Raw("group")!, f.Field("group"), $"'{group}' is not a group name ({ResourceFields.AccountNameRule}) or gid");
        return null;
    }

    /// <summary>An absolute path that fits in a field of /etc/passwd.</summary>
    private static string? AccountPath(FieldReader f, string key)
    {
        var path = f.String(key);
        if (path is null) return null;
        var problem = ResourceFields.PathProblem(path)
            ?? (path.IndexOfAny([':', '\n', '\r']) >= 0 ? "must not contain ':' or a line break (it is a field of /etc/passwd)" : null);
        if (problem is null) return path;
        f.Context.Error(f.Raw(key)!, f.Field(key), $"'{path}' {problem}");
        return null;
    }

    internal override void WriteFields(JsonObject into)
    {
        into["name"] = Name;
        if (Ensure == Ensure.Absent) into["ensure"] = "absent";
        if (Uid is { } uid) into["uid"] = uid.ToString(CultureInfo.InvariantCulture);
        if (Group is not null) into["group"] = Group;
        if (Groups is not null) into["groups"] = new JsonArray(Groups.Select(g => (JsonNode?)JsonValue.Create(g)).ToArray());
        if (Home is not null) into["home"] = Home;
        if (Shell is not null) into["shell"] = Shell;
        if (Comment is not null) into["comment"] = Comment;
        if (System) into["system"] = "true";
    }
}
