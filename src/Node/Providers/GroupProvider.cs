using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Providers;

/// <summary>
/// Groups, read from <c>/etc/group</c> under the root and changed with groupadd, groupmod,
/// groupdel and, for members, gpasswd (all confined to the root, see <see cref="UnixAccounts.Run"/>).
/// Members are set with <c>gpasswd -M</c> rather than <c>groupmod -U</c>: groupmod (shadow 4.13)
/// writes the member list to /etc/group only, leaving /etc/gshadow's behind, while gpasswd keeps
/// both in step as usermod does.
/// </summary>
public sealed class GroupProvider : IResourceProvider
{
    public string Kind => GroupResource.KindName;

    public ProviderResult CheckApply(ResourceSpec resource, ApplyContext context, bool apply, CancellationToken cancel)
    {
        var spec = (GroupResource)resource;
        var root = context.Root;
        AccountKind.Group.RequireFile(root);
        var groups = UnixAccounts.Groups(root);
        var current = groups.FirstOrDefault(g => g.Name == spec.Name);

        if (spec.Ensure == Ensure.Absent)
        {
            if (current is null) return ProviderResult.Unchanged;
            // groupdel refuses too; this names the users in the way, in a plan as well.
            var primaryOf = UnixAccounts.Users(root).Where(u => u.Gid == current.Gid).Select(u => u.Name).ToArray();
            if (primaryOf.Length > 0)
                throw new ResourceException($"group {spec.Name} is the primary group of {string.Join(", ", primaryOf)}: change or remove those users first");
            return AccountKind.Group.Remove(root, spec.Name, current.Gid, apply, cancel);
        }

        AccountKind.Group.RequireFreeId(spec.Gid, spec.Name, groups.Select(g => (g.Name, g.Gid)));

        var note = spec.Members is { } members ? MissingUsers(root, members, apply) : "";

        if (current is null)
        {
            var shown = new List<string>();
            if (spec.Gid is { } newGid) shown.Add($"gid {newGid}");
            if (spec.Members is { Length: > 0 } initial) shown.Add($"members {string.Join(' ', initial)}");
            if (apply)
            {
                UnixAccounts.Run(root, "groupadd", [.. spec.Gid is { } g ? new[] { "--gid", UnixAccounts.Id(g) } : [], spec.Name], cancel);
                if (spec.Members is { Length: > 0 }) SetMembers(root, spec, cancel);
            }
            return AccountKind.Created("group", spec.Name, shown, note);
        }

        var changes = new List<string>();
        var gidChange = spec.Gid is { } wanted && wanted != current.Gid ? wanted : (long?)null;
        if (gidChange is not null) changes.Add($"gid {current.Gid} -> {gidChange}");
        var memberDiff = spec.Members is { } exact ? UnixAccounts.NameDiff(current.Members, exact) : null;
        if (memberDiff is not null) changes.Add($"members {memberDiff}");
        if (changes.Count == 0) return ProviderResult.Unchanged;

        if (apply)
        {
            if (gidChange is { } newGid) UnixAccounts.Run(root, "groupmod", ["--gid", UnixAccounts.Id(newGid), spec.Name], cancel);
            if (memberDiff is not null) SetMembers(root, spec, cancel);
        }
        return AccountKind.Changed(changes, note);
    }

    private static void SetMembers(string root, GroupResource spec, CancellationToken cancel) =>
        UnixAccounts.Run(root, "gpasswd", ["--members", string.Join(',', spec.Members!), spec.Name], cancel);

    /// <summary>Members that are not users of the node (see <see cref="AccountKind.NoteMissing"/>).</summary>
    private static string MissingUsers(string root, string[] members, bool apply)
    {
        var users = UnixAccounts.Users(root).Select(u => u.Name).ToHashSet(StringComparer.Ordinal);
        var unknown = members.Where(m => !users.Contains(m)).ToArray();
        var missing = unknown.Length switch
        {
            0 => null,
            1 => $"user {unknown[0]} does not exist",
            _ => $"users {string.Join(", ", unknown)} do not exist",
        };
        return AccountKind.NoteMissing(missing, "declare the members as users and require them", apply);
    }
}
