using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Mesh.Protocol.Api;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Secrets with real processes: the real <c>mesh</c> CLI seals a <c>!secret</c> for the nodes a
/// manifest targets; those nodes write it, and nothing else any node or the CLI shows or keeps
/// holds it: not <c>mesh get</c>, <c>mesh status</c>, <c>mesh events</c>, <c>mesh diff</c>,
/// not a node's log, not a node's data directory.
/// </summary>
[Collection(SecondEndToEndLane.Name)]
public sealed class SecretTests(ThreeNodeMesh mesh) : IClassFixture<ThreeNodeMesh>
{
    private static readonly string Password = "pw-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task A_pushed_secret_reaches_the_targeted_files_and_nothing_else_shows_it()
    {
        var file = mesh.Manifest("vault.yaml", $$"""
            manifest: vault
            target: { nodes: [b, c] }
            resources:
              - { id: etc, type: directory, path: /etc }
              - id: creds
                type: file
                path: /etc/creds
                mode: "0600"
                requires: [etc]
                content: !secret "{{Password}}\n"
            """);
        var seen = new StringBuilder();
        using var events = StartEvents(seen);
        try
        {
            await events.StandardError.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));

            var push = await mesh.Cli(mesh.C, "push", file, "--wait", "--timeout", "60s");

            Assert.True(push.ExitCode == 0, push.ToString());
            Assert.Contains("sealing the secrets of vault for b, c", push.Err);
            Assert.Contains("all 2 report(s) ok", push.Out);
            AssertNoSecret(push.ToString(), "the push output");
            await ThreeNodeMesh.Until(() => Task.FromResult(Reports(seen, "vault") >= 2), "mesh events shows both reports");
        }
        finally
        {
            events.Kill(entireProcessTree: true);
            await events.WaitForExitAsync();
        }
        AssertNoSecret(seen.ToString(), "mesh events");

        foreach (var node in new[] { mesh.B, mesh.C })
        {
            Assert.Equal($"{Password}\n", File.ReadAllText(node.RootPath("/etc/creds")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(node.RootPath("/etc/creds")));
        }
        Assert.False(File.Exists(mesh.A.RootPath("/etc/creds")));

        foreach (var via in mesh.All)
        {
            var get = await mesh.Cli(via, "get", "vault");
            Assert.True(get.ExitCode == 0, get.ToString());
            Assert.Contains("mesh-sealed:v1:", get.Out);
            AssertNoSecret(get.ToString(), $"mesh get via {via.Name}");
            // Each node shows both reports once they reached its replica (by gossip, a moment after the pusher saw them).
            ProcessResult status = null!;
            await ThreeNodeMesh.Until(async () =>
                JsonSerializer.Deserialize<StatusReport>((status = await mesh.Cli(via, "status", "--json")).Out, ApiJson.Options)!
                    .Manifests.Count(s => s is { Manifest: "vault", State: "ok" }) == 2, $"{via.Name}'s status shows vault ok on b and c");
            AssertNoSecret(status.ToString(), $"mesh status via {via.Name}");
        }

        // A dry run of a change to the secret shows that it would change, not how.
        var diff = await mesh.Cli(mesh.A, "diff", mesh.Manifest("vault2.yaml", File.ReadAllText(file).Replace(Password, Password + "-next")));
        Assert.True(diff.ExitCode == 0, diff.ToString());
        Assert.Contains("withheld", diff.Out);
        AssertNoSecret(diff.ToString(), "mesh diff");

        foreach (var node in mesh.All)
        {
            AssertNoSecret(node.Log, $"the log of {node.Name}");
            AssertNoSecretInDataDir(node);
        }
    }

    [Fact]
    public async Task A_secret_for_no_node_is_refused_before_anything_is_sent()
    {
        var file = mesh.Manifest("nobody.yaml", $$"""
            manifest: nobody
            target: { nodes: [no-such-node] }
            resources:
              - { id: f, type: file, path: /nobody, content: !secret "{{Password}}" }
            """);

        var push = await mesh.Cli(mesh.A, "push", file);

        Assert.Equal(2, push.ExitCode);
        Assert.Contains("nobody holds secrets, but no member is targeted", push.Err);
        var list = await mesh.Cli(mesh.A, "list");
        Assert.DoesNotContain("nobody", list.Out);
    }

    private Process StartEvents(StringBuilder seen)
    {
        var info = Binaries.StartInfo(Binaries.Cli, null, mesh.WorkDir, ["--api", mesh.A.Api, "events", "--json"]);
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) =>
        {
            lock (seen) seen.AppendLine(e.Data);
        };
        process.BeginOutputReadLine();
        return process;
    }

    private static int Reports(StringBuilder seen, string manifest)
    {
        string text;
        lock (seen) text = seen.ToString();
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonSerializer.Deserialize<MeshEvent>(line, ApiJson.Options))
            .Count(e => e?.Report is { Succeeded: true } r && r.Manifest == manifest);
    }

    private static void AssertNoSecret(string text, string where) =>
        Assert.False(text.Contains(Password, StringComparison.Ordinal), $"the secret is in {where}:\n{text}");

    private static void AssertNoSecretInDataDir(NodeProcess node)
    {
        var root = Path.GetFullPath(node.Root) + Path.DirectorySeparatorChar;
        var needle = Encoding.UTF8.GetBytes(Password);
        var files = Directory.EnumerateFiles(node.DataDir, "*", SearchOption.AllDirectories)
            .Where(f => !Path.GetFullPath(f).StartsWith(root, StringComparison.Ordinal))
            .ToArray();
        Assert.Contains(files, f => f.Contains($"{Path.DirectorySeparatorChar}blobs{Path.DirectorySeparatorChar}"));
        foreach (var file in files)
            Assert.True(File.ReadAllBytes(file).AsSpan().IndexOf(needle) < 0, $"{file} holds the secret in plaintext");
    }
}
