using YamlDotNet.RepresentationModel;

namespace Mesh.Protocol.Manifests;

/// <summary>Fields several resource kinds share, validated the same way for all of them.</summary>
internal static class ResourceFields
{
    /// <summary>
    /// A path inside the node's root: absolute, normalised, no <c>.</c> or <c>..</c> segment.
    /// Refusing <c>..</c> outright (rather than resolving it) means a manifest can never name
    /// a place outside the root, whatever the root is.
    /// </summary>
    public static string Path(FieldReader f)
    {
        var path = f.String("path", required: true);
        if (path is null) return "";
        var problem = PathProblem(path);
        if (problem is not null) f.Context.Error(f.Raw("path")!, f.Field("path"), $"'{path}' {problem}");
        return path;
    }

    public static string? PathProblem(string path)
    {
        if (path.Length == 0) return "is empty";
        if (path.Contains('\0')) return "contains a NUL character";
        if (path[0] != '/') return "must be absolute (start with /)";
        if (path.Length > 4096) return "is longer than 4096 characters";
        if (path.Length > 1 && path.EndsWith('/')) return "must not end with /";
        foreach (var segment in path.Split('/').Skip(1))
        {
            if (segment == "..") return "escapes the root: '..' is not allowed in paths";
            if (segment == ".") return "must be normalised: '.' is not allowed in paths";
            if (segment.Length == 0 && path != "/") return "must be normalised: '//' is not allowed in paths";
        }
        return null;
    }

    /// <summary>A user or group: a name (as in /etc/passwd) or a numeric id.</summary>
    public static string? Account(FieldReader f, string key)
    {
        var text = f.String(key);
        if (text is null) return null;
        if (text.Length is 0 or > 32 || !text.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '$'))
        {
            f.Context.Error(f.Raw(key)!, f.Field(key), $"'{text}' is not a user or group name or id");
            return null;
        }
        return text;
    }

    /// <summary>The longest account name the shadow tools accept.</summary>
    public const int MaxAccountName = 32;

    /// <summary>
    /// The name of a user or group to manage: lowercase letters, digits, <c>_</c>, <c>.</c> and
    /// <c>-</c>, starting with a letter or <c>_</c> (so it is never a number and never read as an
    /// option), at most 32 characters. This is what useradd and groupadd accept everywhere;
    /// an existing account with a name outside it can still be named by <c>owner</c>/<c>group</c>.
    /// </summary>
    public static bool IsAccountName(string name) =>
        name.Length is > 0 and <= MaxAccountName
        && (char.IsAsciiLetterLower(name[0]) || name[0] == '_')
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '.' or '-');

    public const string AccountNameRule = "lowercase letters, digits, _ . -, starting with a letter or _, at most 32";

    /// <summary>The required <c>name</c> of a user or group.</summary>
    public static string AccountName(FieldReader f, string what)
    {
        var name = f.String("name", required: true);
        if (name is null) return "";
        if (!IsAccountName(name)) f.Context.Error(f.Raw("name")!, f.Field("name"), $"'{name}' is not a {what} name ({AccountNameRule})");
        return name;
    }

    /// <summary>
    /// A list of account names that, when given, is enforced exactly (<c>[]</c> means none);
    /// null when the field is left out (or left empty), which leaves the list as it is. Sorted,
    /// so the order it is written in does not change the manifest.
    /// </summary>
    public static string[]? AccountNames(FieldReader f, string key, string what)
    {
        var node = f.Raw(key);
        if (node is null || node is YamlScalarNode s && FieldReader.IsNull(s)) return null;
        var names = f.StringList(key); // reports items that are not strings
        var entries = node is YamlSequenceNode list
            ? list.Children.Select((item, i) => (Node: item, Field: $"{f.Field(key)}[{i}]")).Where(e => e.Node is YamlScalarNode item && !FieldReader.IsNull(item)).ToArray()
            : names.Select(_ => (Node: node, Field: f.Field(key))).ToArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var ((at, field), name) in entries.Zip(names))
        {
            if (!IsAccountName(name)) f.Context.Error(at, field, $"'{name}' is not a {what} name ({AccountNameRule})");
            else if (!seen.Add(name)) f.Context.Error(at, field, $"'{name}' is listed twice");
        }
        return seen.Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The largest user or group id: (uid_t)-1 itself means "no id" to the kernel.</summary>
    public const long MaxAccountId = 4294967294;

    /// <summary>A numeric user or group id (<c>uid</c>, <c>gid</c>), written in decimal.</summary>
    public static long? AccountId(FieldReader f, string key, string? what = null)
    {
        var text = f.String(key);
        if (text is null) return null;
        if (text.Length is > 0 and <= 10 && text.All(char.IsAsciiDigit) && long.Parse(text) is var id and <= MaxAccountId) return id;
        f.Context.Error(f.Raw(key)!, f.Field(key), $"'{text}' is not a {what ?? key} (a whole number from 0 to {MaxAccountId})");
        return null;
    }

    public static UnixMode? Mode(FieldReader f)
    {
        var text = f.String("mode");
        if (text is null) return null;
        if (UnixMode.TryParse(text, out var mode)) return mode;
        f.Context.Error(f.Raw("mode")!, f.Field("mode"), $"'{text}' is not an octal file mode such as \"0644\"");
        return null;
    }
}

/// <summary>Permission bits written the way operators write them: "0644".</summary>
public readonly record struct UnixMode(int Bits)
{
    public static bool TryParse(string text, out UnixMode mode)
    {
        mode = default;
        if (text.Length is < 3 or > 4 || text.Any(c => c is < '0' or > '7')) return false;
        mode = new UnixMode(Convert.ToInt32(text, 8));
        return true;
    }

    public UnixFileMode ToFileMode() => (UnixFileMode)Bits;

    public override string ToString() => Convert.ToString(Bits, 8).PadLeft(4, '0');
}
