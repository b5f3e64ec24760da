namespace Mesh.Node.Tests.Support;

/// <summary>
/// A throwaway root holding copies of the host's account files (passwd, group, shadow, gshadow,
/// login.defs), for the user and group providers to change with the real shadow tools. It
/// remembers the host's own files and, when disposed, checks they are byte for byte as before.
/// </summary>
public sealed class AccountRoot : IDisposable
{
    private static readonly string[] HostFiles = ["passwd", "group", "shadow", "gshadow"];

    private readonly TempDir _dir = new();
    private readonly Dictionary<string, byte[]> _host = HostFiles.ToDictionary(f => f, f => File.ReadAllBytes(System.IO.Path.Combine("/etc", f)));

    public AccountRoot()
    {
        Directory.CreateDirectory(_dir["etc"]);
        foreach (var file in HostFiles.Append("login.defs"))
        {
            File.Copy(System.IO.Path.Combine("/etc", file), _dir[$"etc/{file}"]);
        }
    }

    public string Path => _dir.Path;

    public string this[string relative] => _dir[relative];

    /// <summary>The line of an account file under the root for that name ("alice:x:2001:..."), or null.</summary>
    public string? Entry(string file, string name) =>
        File.ReadLines(_dir[$"etc/{file}"]).FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.Ordinal));

    /// <summary>The account files under the root, to show that a step changed none of them.</summary>
    public string Snapshot() => string.Join("\n--\n", HostFiles.Select(f => File.ReadAllText(_dir[$"etc/{f}"])));

    public void AssertHostUnchanged()
    {
        foreach (var (file, bytes) in _host)
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(System.IO.Path.Combine("/etc", file))), $"the host's /etc/{file} changed");
    }

    public void Dispose()
    {
        try
        {
            AssertHostUnchanged();
        }
        finally
        {
            _dir.Dispose();
        }
    }
}
