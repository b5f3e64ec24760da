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
