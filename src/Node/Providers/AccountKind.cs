using Mesh.Protocol.Wire;

namespace Mesh.Node.Providers;

/// <summary>
/// What the user and group kinds do alike to an account of the root: they need the root's
/// account file, give an id to one account only, remove an account with the kind's del tool,
/// note the accounts a resource refers to that are not there yet, and word what they did one way.
/// </summary>
internal sealed record AccountKind(string Name, string IdName, string File)
{
    public static readonly AccountKind User = new("user", "uid", "passwd");
    public static readonly AccountKind Group = new("group", "gid", "group");

    /// <summary>Fails the resource when the root has no account file to manage this kind in.</summary>
    public void RequireFile(string root) => UnixAccounts.RequireFile(root, File, Name);

    /// <summary>Fails the resource when the id it asks for already belongs to another account.</summary>
    public void RequireFreeId(long? id, string name, IEnumerable<(string Name, long Id)> accounts)
    {
        if (id is { } wanted && accounts.FirstOrDefault(a => a.Id == wanted && a.Name != name).Name is { } holder)
            throw new ResourceException($"{IdName} {wanted} is already used by {Name} {holder}");
    }

    /// <summary>Removes the account with the kind's del tool (userdel, groupdel).</summary>
    public ProviderResult Remove(string root, string name, long id, bool apply, CancellationToken cancel)
    {
        if (apply) UnixAccounts.Run(root, Name + "del", [name], cancel);
        return new ProviderResult(ResourceAction.Removed, $"removed {Name} {name} ({IdName} {id})");
    }

    /// <summary>
    /// The accounts a resource refers to that do not exist fail an apply. A plan cannot know
    /// whether a resource before this one would create them, so it says so instead of failing.
    /// </summary>
    /// <param name="missing">"group web does not exist", or null when all are there.</param>
    /// <param name="remedy">What the manifest should do, for the apply's error.</param>
    /// <returns>The note a plan appends to its message; empty when nothing is missing.</returns>
    public static string NoteMissing(string? missing, string remedy, bool apply)
    {
        if (missing is null) return "";
        if (apply) throw new ResourceException($"{missing} on this node ({remedy})");
        return $" ({missing} yet)";
    }

    /// <summary>"created user alice (uid 1500, shell /bin/sh)".</summary>
    public static ProviderResult Created(string what, string name, IReadOnlyList<string> shown, string note) =>
        new(ResourceAction.Created, $"created {what} {name}{(shown.Count > 0 ? $" ({string.Join(", ", shown)})" : "")}{note}");

    /// <summary>"uid 1500 -> 1501, shell /bin/sh -> /bin/bash".</summary>
    public static ProviderResult Changed(IReadOnlyList<string> changes, string note) =>
        new(ResourceAction.Changed, string.Join(", ", changes) + note);
}
