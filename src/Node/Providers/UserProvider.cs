using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Providers;

/// <summary>
/// Users, read from <c>/etc/passwd</c> and <c>/etc/group</c> under the root and changed with
/// useradd, usermod and userdel (confined to the root, see <see cref="UnixAccounts.Run"/>).
/// Every field that differs is changed by one usermod, so a user is never left half-changed.
/// userdel keeps the home directory and its files.
/// </summary>
public sealed class UserProvider : IResourceProvider
{
    public string Kind => UserResource.KindName;

    public ProviderResult CheckApply(ResourceSpec resource, ApplyContext context, bool apply, CancellationToken cancel)
    {
        var spec = (UserResource)resource;
        var root = context.Root;
        AccountKind.User.RequireFile(root);
        var users = UnixAccounts.Users(root);
        var current = users.FirstOrDefault(u => u.Name == spec.Name);

        if (spec.Ensure == Ensure.Absent)
            return current is null ? ProviderResult.Unchanged : AccountKind.User.Remove(root, spec.Name, current.Uid, apply, cancel);

        AccountKind.User.RequireFreeId(spec.Uid, spec.Name, users.Select(u => (u.Name, u.Uid)));

        var groups = UnixAccounts.Groups(root);
        var missing = new List<string>();
        var primary = spec.Group is null ? null : PrimaryGroup(spec.Group, groups, missing);
        if (spec.Groups is { } wanted)
            missing.AddRange(wanted.Where(name => groups.All(g => g.Name != name)).Select(name => $"group {name}"));
        var note = AccountKind.NoteMissing(
            missing.Count == 0 ? null : $"{string.Join(", ", missing)} {(missing.Count == 1 ? "does" : "do")} not exist",
            "declare the groups and require them", apply);

        var options = new List<string>();
        var changes = new List<string>();

        void Enforce(string option, string value, string change)
        {
            options.AddRange([option, value]);
            changes.Add(change);
        }

        if (current is null)
        {
            if (spec.System) options.Add("--system");
            if (spec.Uid is { } newUid) Enforce("--uid", UnixAccounts.Id(newUid), $"uid {newUid}");
            if (spec.Group is not null) Enforce("--gid", spec.Group, $"group {spec.Group}");
            if (spec.Groups is { Length: > 0 } initial) Enforce("--groups", string.Join(',', initial), $"groups {string.Join(' ', initial)}");
            if (spec.Home is not null) Enforce("--home-dir", spec.Home, $"home {spec.Home}");
            if (spec.Shell is not null) Enforce("--shell", spec.Shell, $"shell {spec.Shell}");
            if (spec.Comment is not null) Enforce("--comment", spec.Comment, $"comment {Quoted(spec.Comment)}");
            if (apply) UnixAccounts.Run(root, "useradd", [.. options, spec.Name], cancel);
            return AccountKind.Created(spec.System ? "system user" : "user", spec.Name, changes, note);
        }

        if (spec.Uid is { } wantedUid && wantedUid != current.Uid)
            Enforce("--uid", UnixAccounts.Id(wantedUid), $"uid {current.Uid} -> {wantedUid}");
        if (spec.Group is not null && primary != current.Gid)
            Enforce("--gid", spec.Group, $"group {GroupName(current.Gid, groups)} -> {spec.Group}");
        if (spec.Groups is { } exact)
        {
            var member = groups.Where(g => g.Members.Contains(spec.Name)).Select(g => g.Name);
            if (UnixAccounts.NameDiff(member, exact) is { } diff) Enforce("--groups", string.Join(',', exact), $"groups {diff}");
        }
        if (spec.Home is not null && spec.Home != current.Home) Enforce("--home", spec.Home, $"home {current.Home} -> {spec.Home}");
        if (spec.Shell is not null && spec.Shell != current.Shell) Enforce("--shell", spec.Shell, $"shell {current.Shell} -> {spec.Shell}");
        if (spec.Comment is not null && spec.Comment != current.Comment)
            Enforce("--comment", spec.Comment, $"comment {Quoted(current.Comment)} -> {Quoted(spec.Comment)}");
        if (changes.Count == 0) return ProviderResult.Unchanged;

        if (apply) UnixAccounts.Run(root, "usermod", [.. options, spec.Name], cancel);
        return AccountKind.Changed(changes, note);
    }

    /// <summary>The gid a <c>group</c> field names (a name, or a number that must be a group's); null when no such group exists.</summary>
    private static long? PrimaryGroup(string group, IReadOnlyList<UnixGroup> groups, List<string> missing)
    {
        var found = long.TryParse(group, out var gid)
            ? groups.FirstOrDefault(g => g.Gid == gid)
            : groups.FirstOrDefault(g => g.Name == group);
        if (found is null) missing.Add(long.TryParse(group, out _) ? $"a group with gid {group}" : $"group {group}");
        return found?.Gid;
    }

    private static string GroupName(long gid, IReadOnlyList<UnixGroup> groups) =>
        groups.FirstOrDefault(g => g.Gid == gid)?.Name ?? UnixAccounts.Id(gid);

    private static string Quoted(string text) => $"'{text}'";
}
