using Mesh.Protocol.Signing;

namespace Mesh.Cli.Tests;

public sealed class KeygenTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mesh-keygen-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Task<(int Code, string Out, string Err)> Run(params string[] args) => InProcessCli.Run(args);

    [Fact]
    public async Task Keygen_writes_a_private_key_only_its_owner_reads_and_prints_the_trust_line()
    {
        var path = Path.Combine(_dir, "sub", "ops.key");

        var (code, output, _) = await Run("keygen", "--out", path, "--name", "ops");

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        using var key = SigningKey.Load(path);
        Assert.Contains($"key {key.Public.Id}", output);
        Assert.Contains($"mesh.trusted-keys {{ \"ops\" = \"{key.Public.Spki}\" }}", output);
        Assert.Contains($"--trust ops={key.Public.Spki}", output);
    }

    [Fact]
    public async Task Keygen_never_overwrites_a_key_unless_forced()
    {
        var path = Path.Combine(_dir, "ops.key");
        Assert.Equal(ExitCodes.Ok, (await Run("keygen", "--out", path)).Code);
        var first = File.ReadAllText(path);

        var (code, _, err) = await Run("keygen", "--out", path);
        Assert.Equal(ExitCodes.Invalid, code);
        Assert.Contains("already exists", err);
        Assert.Equal(first, File.ReadAllText(path));

        Assert.Equal(ExitCodes.Ok, (await Run("keygen", "--out", path, "--force")).Code);
        Assert.NotEqual(first, File.ReadAllText(path));
    }

    [Fact]
    public async Task A_named_key_that_cannot_be_used_stops_the_push_before_anything_is_sent()
    {
        var path = Path.Combine(_dir, "loose.key");
        Assert.Equal(ExitCodes.Ok, (await Run("keygen", "--out", path)).Code);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var manifest = Path.Combine(_dir, "m.yaml");
        File.WriteAllText(manifest, "manifest: m\nresources: []\n");

        var (code, _, err) = await Run("--api", "127.0.0.1:1", "--key", path, "push", manifest, "--force");

        Assert.Equal(ExitCodes.Invalid, code);
        Assert.Contains("readable by others", err);
    }
}
