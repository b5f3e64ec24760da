namespace Mesh.Node.Providers;

/// <summary>
/// User and group names resolved against the account files under the node's root
/// (<c>&lt;root&gt;/etc/passwd</c>, <c>&lt;root&gt;/etc/group</c>): on a real host the root is
/// <c>/</c>, in a sandbox root the names are the sandbox's. A number is taken as an id.
/// </summary>
public static class UnixAccounts
{
    public static int UserId(string root, string user) => Resolve(root, "passwd", user, "user");

    public static int GroupId(string root, string group) => Resolve(root, "group", group, "group");

    private static int Resolve(string root, string file, string name, string what)
    {
        if (int.TryParse(name, out var id) && id >= 0) return id;
        var path = Path.Combine(root, "etc", file);
        if (File.Exists(path))
            foreach (var line in File.ReadLines(path))
            {
                var fields = line.Split(':');
                if (fields.Length >= 3 && fields[0] == name && int.TryParse(fields[2], out id)) return id;
            }
        throw new ResourceException($"{what} '{name}' does not exist on this node (looked in {Path.Combine("/etc", file)} under the root)");
    }
}
