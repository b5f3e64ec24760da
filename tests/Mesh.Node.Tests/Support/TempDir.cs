namespace Mesh.Node.Tests.Support;

/// <summary>A directory for one test, removed afterwards.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("mesh-test-").FullName;

    public string this[string relative] => System.IO.Path.Combine(Path, relative.TrimStart('/'));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory does not fail a test.
        }
    }
}
