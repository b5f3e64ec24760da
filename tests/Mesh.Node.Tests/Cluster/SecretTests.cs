using System.Text;
using System.Text.Json;
using Mesh.Node.Security;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Secrets;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Cluster;

/// <summary>
/// A secret is sealed for the nodes a manifest targets, opened only where it is applied, and
/// found in plaintext nowhere else: not in any node's data directory (replicated index, history
/// and status on disk, content store, audit trail), not in any report, not in the stored body.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SecretTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    // Distinct enough that finding it anywhere is never a coincidence.
    private static readonly string Password = "pw-" + Guid.NewGuid().ToString("N");
    private static readonly string Token = "tk-" + Guid.NewGuid().ToString("N");

    private static readonly string Db = $$$"""
        manifest: db
        target: { roles: [db] }
        vars: { token: !secret "{{{Token}}}" }
        resources:
          - { id: etc, type: directory, path: /etc }
          - id: conf
            type: file
            path: /etc/db.conf
            mode: "0600"
            requires: [etc]
            content: !secret |
              user = app
              password = {{{Password}}}
          - id: token
            type: file
            path: /etc/token
            requires: [etc]
            template: "token = {{ vars.token }}\n"
          - id: use-token
            type: exec
            command: ["/bin/sh", "-c", "echo using $TOKEN"]
            env: { TOKEN: !secret "{{{Token}}}" }
          # Uses no secret itself, but prints one: the report must not carry it either.
          - { id: show, type: exec, command: "echo begin; cat db.conf; echo end", cwd: /etc, requires: [conf] }
        """;

    /// <summary>What the CLI does before a push: seal the secrets for the members the manifest targets, with the keys they publish.</summary>
    private static string Sealed(string yaml, MeshNode via) =>
        SecretSealer.Seal(yaml, "db.yaml", manifest => via.Queries.Members()
            .Where(m => manifest.Target.Matches(new NodeIdentity(m.Name, m.Roles.ToHashSet(), m.Labels)))
            .Select(m => Convert.FromBase64String(m.Key!))
            .ToArray()).Text;

    private static PushRequest Push(string text) => new([new ManifestFile("db.yaml", text)], "secrets", "tester");

    private static Task<NodeStatus> Reported(MeshNode observer, string node, string state = "ok") =>
        Eventually.Value(async () => (await observer.Queries.StatusAsync("db")).Manifests.FirstOrDefault(s => s.Node == node && s.State == state),
            $"{node} reported {state} for db (seen from {observer.Settings.Name})");

    [Fact]
    public async Task A_secret_pushed_to_two_of_three_nodes_is_written_there_and_found_in_plaintext_nowhere_else()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b", roles: ["db"]);
        var c = _mesh.Start("c", roles: ["db"]);
        await _mesh.Converged();
        var text = Sealed(Db, a);
        Assert.DoesNotContain(Password, text);

        var pushed = await a.Revisions.PushAsync(Push(text));

        Assert.Equal(["b", "c"], Assert.Single(pushed.Revisions).Targets);
        foreach (var observer in new[] { a, b, c })
        {
            await Reported(observer, "b");
            await Reported(observer, "c");
        }
        foreach (var target in new[] { b, c })
        {
            Assert.Equal($"user = app\npassword = {Password}\n", File.ReadAllText(_mesh.RootOf(target, "/etc/db.conf")));
            Assert.Equal($"token = {Token}\n", File.ReadAllText(_mesh.RootOf(target, "/etc/token")));
        }
        Assert.False(File.Exists(_mesh.RootOf(a, "/etc/db.conf")));

        // The reports say what happened, without the secrets: a resource that used one keeps no detail.
        var report = (await Reported(a, "b")).Report!;
        Assert.Equal(OpenedManifest.Withheld, report.Resources.Single(r => r.Id == "use-token").Detail);
        Assert.Equal(OpenedManifest.Withheld, report.Resources.Single(r => r.Id == "conf").Detail);
        Assert.Equal($"begin\n{SecretRedactor.Marker}end", report.Resources.Single(r => r.Id == "show").Detail);

        foreach (var node in new[] { a, b, c })
        {
            var reports = JsonSerializer.Serialize(await node.Queries.StatusAsync(null), ApiJson.Options);
            AssertNoSecret(reports, $"the status seen from {node.Settings.Name}");
            var body = (await node.Queries.GetAsync("db"))!.Canonical;
            Assert.Contains(SecretBox.Prefix, body);
            AssertNoSecret(body, $"the body {node.Settings.Name} serves");
        }
        foreach (var node in new[] { a, b, c }) AssertNoSecretInDataDir(node, holdsBody: true);
    }

    [Fact]
    public async Task A_node_that_joins_after_the_push_says_the_secret_was_not_sealed_for_it_until_it_is_pushed_again()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b", roles: ["db"]);
        await _mesh.Converged();
        await a.Revisions.PushAsync(Push(Sealed(Db, a)));
        await Reported(a, "b");

        var late = _mesh.Start("late", roles: ["db"]);
        await _mesh.Converged();

        var failed = (await Reported(a, "late", "failed")).Report!;
        Assert.Contains("is not sealed for node late", failed.Error);
        Assert.Contains("push the manifest again", failed.Error);
        Assert.Empty(failed.Resources);
        Assert.False(File.Exists(_mesh.RootOf(late, "/etc/db.conf")));

        await a.Revisions.PushAsync(Push(Sealed(Db, a)));

        await Eventually.True(() => File.Exists(_mesh.RootOf(late, "/etc/db.conf")), "late applies the secret once sealed for it");
        await Reported(a, "late");
        Assert.Contains(Password, File.ReadAllText(_mesh.RootOf(late, "/etc/db.conf")));
        AssertNoSecretInDataDir(late, holdsBody: true);
    }

    [Fact]
    public async Task A_dry_run_of_a_secret_shows_no_diff_of_it()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b", roles: ["db"]);
        await _mesh.Converged();

        var plan = await a.Fleet.PlanAsync(Push(Sealed(Db, a)), TimeSpan.FromSeconds(20));

        var p = Assert.Single(Assert.Single(plan.Manifests).Plans);
        Assert.True(p.Succeeded, p.Error);
        Assert.Equal(ResourceAction.Created, p.Resources.Single(r => r.Id == "conf").Action);
        Assert.Equal(OpenedManifest.Withheld, p.Resources.Single(r => r.Id == "conf").Detail);
        Assert.Equal(OpenedManifest.Withheld, p.Resources.Single(r => r.Id == "token").Detail);
        AssertNoSecret(JsonSerializer.Serialize(plan, ApiJson.Options), "the plan");
        Assert.False(File.Exists(_mesh.RootOf(b, "/etc/db.conf")));
    }

    [Fact]
    public async Task A_node_refuses_a_plaintext_secret_and_keeps_nothing_of_it()
    {
        var a = _mesh.Start("a");
        await _mesh.Converged();

        var refused = await Assert.ThrowsAsync<ManifestException>(() => a.Revisions.PushAsync(Push(Db)));

        Assert.All(refused.Errors, e => Assert.Contains("a plaintext secret (!secret) never goes to a node", e.Message));
        var secretLines = Db.Split('\n').Select((line, i) => (line, i)).Where(l => l.line.Contains("!secret")).Select(l => l.i + 1);
        Assert.Equal(secretLines, refused.Errors.Select(e => e.Line).Order());
        AssertNoSecret(refused.Message, "the refusal");
        Assert.Empty(await a.Store.IndexAsync());
        AssertNoSecretInDataDir(a, holdsBody: false);
    }

    [Fact]
    public async Task Each_node_keeps_its_key_to_itself_and_publishes_the_public_half()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b");
        await _mesh.Converged();

        foreach (var node in new[] { a, b })
        {
            var file = Path.Combine(node.Settings.DataDir, NodeKey.FileName);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            using var key = NodeKey.Load(node.Settings.DataDir)!;
            await Eventually.True(() => a.Queries.Members().Any(m => m.Name == node.Settings.Name && m.Key == Convert.ToBase64String(key.PublicKey)),
                $"a sees the public key of {node.Settings.Name}");
        }
        Assert.NotEqual(a.Queries.Members().Single(m => m.Name == "a").Key, a.Queries.Members().Single(m => m.Name == "b").Key);
    }

    private static void AssertNoSecret(string text, string where)
    {
        Assert.False(text.Contains(Password, StringComparison.Ordinal), $"the password is in {where}");
        Assert.False(text.Contains(Token, StringComparison.Ordinal), $"the token is in {where}");
    }

    /// <summary>Every file the node keeps (its durable replicas, blobs, audit trail, backups, key), except the root it applies to.</summary>
    private static void AssertNoSecretInDataDir(MeshNode node, bool holdsBody)
    {
        var root = Path.GetFullPath(node.Settings.Root) + Path.DirectorySeparatorChar;
        var files = Directory.EnumerateFiles(node.Settings.DataDir, "*", SearchOption.AllDirectories)
            .Where(f => !Path.GetFullPath(f).StartsWith(root, StringComparison.Ordinal))
            .ToArray();
        Assert.Contains(files, f => Path.GetFileName(f) == NodeKey.FileName);
        if (holdsBody)
        {
            // The scan reaches the stores a secret would land in: the replicas on disk and the content store.
            Assert.Contains(files, f => f.Contains($"{Path.DirectorySeparatorChar}ddata{Path.DirectorySeparatorChar}"));
            Assert.Contains(files, f => f.Contains($"{Path.DirectorySeparatorChar}blobs{Path.DirectorySeparatorChar}"));
        }
        var needles = new[] { Password, Token }.Select(Encoding.UTF8.GetBytes).ToArray();
        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(file);
            foreach (var needle in needles)
                Assert.True(bytes.AsSpan().IndexOf(needle) < 0, $"{file} holds a secret in plaintext");
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
