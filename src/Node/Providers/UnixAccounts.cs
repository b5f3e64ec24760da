namespace Mesh.Node.Providers;

/// <summary>
/// The accounts of the node as the files under its root describe them
/// (<c>&lt;root&gt;/etc/passwd</c>, <c>&lt;root&gt;/etc/group</c>): on a real host the root is
/// <c>/</c>, in a sandbox root the accounts are the sandbox's. Names used as file owners are
/// resolved here (a number is taken as an id), and the shadow tools that change accounts are
/// run here, confined to the root.
/// </summary>
public static class UnixAccounts
{
    /// <summary>How long one useradd/usermod/groupadd/... may take.</summary>
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(2);

    public static int UserId(string root, string user) =>
        Resolve(user, Users(root).FirstOrDefault(u => u.Name == user)?.Uid, "user", "passwd");

    public static int GroupId(string root, string group) =>
        Resolve(group, Groups(root).FirstOrDefault(g => g.Name == group)?.Gid, "group", "group");

    private static int Resolve(string name, long? found, string what, string file)
    {
        if (int.TryParse(name, out var id) && id >= 0) return id;
        if (found is { } known && known <= int.MaxValue) return (int)known;
        throw new ResourceException($"{what} '{name}' does not exist on this node (looked in {Path.Combine("/etc", file)} under the root)");
    }

    /// <summary>The host path of an account file (<c>passwd</c>, <c>group</c>) of the root.</summary>
    public static string FilePath(string root, string file) => Path.Combine(root, "etc", file);

    /// <summary>The users of <c>/etc/passwd</c> under the root; none when it has no such file.</summary>
    public static IReadOnlyList<UnixUser> Users(string root) =>
        Entries(root, "passwd", f => new UnixUser(f[0], long.Parse(f[2]), Field(f, 3) is { } gid && long.TryParse(gid, out var g) ? g : -1,
            Field(f, 4) ?? "", Field(f, 5) ?? "", Field(f, 6) ?? ""));

    /// <summary>The groups of <c>/etc/group</c> under the root; none when it has no such file.</summary>
    public static IReadOnlyList<UnixGroup> Groups(string root) =>
        Entries(root, "group", f => new UnixGroup(f[0], long.Parse(f[2]),
            (Field(f, 3) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));

    private static string? Field(string[] fields, int index) => index < fields.Length ? fields[index] : null;

    // name:password:id:...; lines that are not entries (comments, NIS "+" lines) are skipped.
    private static List<T> Entries<T>(string root, string file, Func<string[], T> entry)
    {
        var path = FilePath(root, file);
        if (!File.Exists(path)) return [];
        return File.ReadLines(path)
            .Select(line => line.Split(':'))
            .Where(f => f.Length >= 3 && f[0].Length > 0 && f[2].Length > 0 && f[2].All(char.IsAsciiDigit) && f[2].Length <= 10)
            .Select(entry)
            .ToList();
    }

    /// <summary>Fails the resource when the root has no such account file: there is nothing to manage accounts in.</summary>
    public static void RequireFile(string root, string file, string kind)
    {
        if (!File.Exists(FilePath(root, file)))
            throw new ResourceException(RootedPath.IsHostRoot(root)
                ? $"{kind}: this node has no /etc/{file}"
                : $"{kind}: the root {root} has no /etc/{file}");
    }

    /// <summary>
    /// Runs a shadow tool (useradd, groupmod, ...) on the root's accounts. Under a root other than
    /// <c>/</c> it runs with <c>--root</c>: the tool chroots into the root before it touches a file,
    /// so it reads the root's login.defs and writes only the root's files, whatever symlinks they
    /// hold. It fails the resource with what the tool said.
    /// </summary>
    public static void Run(string root, string tool, IEnumerable<string> args, CancellationToken cancel)
    {
        var program = Tool(tool)
            ?? throw new ResourceException($"{tool} is not available on this node (the passwd package provides it)");
        var rooted = RootedPath.IsHostRoot(root) ? [] : new[] { "--root", Path.GetFullPath(root) };
        HostTools.Run(program, [.. rooted, .. args], ToolTimeout, cancel).OrFail();
    }

    /// <summary>"+alice -bob": the names to add and to take away (members, groups); null when both hold the same names.</summary>
    public static string? NameDiff(IEnumerable<string> current, IReadOnlyCollection<string> wanted)
    {
        var have = current.ToHashSet(StringComparer.Ordinal);
        var joins = wanted.Where(w => !have.Contains(w)).Order(StringComparer.Ordinal).Select(w => "+" + w);
        var leaves = have.Where(h => !wanted.Contains(h)).Order(StringComparer.Ordinal).Select(h => "-" + h);
        var diff = string.Join(' ', joins.Concat(leaves));
        return diff.Length == 0 ? null : diff;
    }

    /// <summary>A user or group id as the tools and messages write it.</summary>
    public static string Id(long id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The shadow tools live in sbin, which a service's PATH may lack.</summary>
    private static string? Tool(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin"])
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}

/// <summary>An entry of /etc/passwd.</summary>
public sealed record UnixUser(string Name, long Uid, long Gid, string Comment, string Home, string Shell);

/// <summary>An entry of /etc/group, with its supplementary members.</summary>
public sealed record UnixGroup(string Name, long Gid, IReadOnlyList<string> Members);
