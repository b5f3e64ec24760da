using System.Net.Http.Json;
using System.Text.Json;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Signing;

namespace Mesh.EndToEnd.Tests;

/// <summary>Only signed changes are applied, with real processes and the real CLI.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class SigningTests : IAsyncLifetime
{
    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-signing-");

    private static Task<ProcessResult> Cli(NodeProcess via, params string[] args) => via.Cli(args);

    private string Motd(string text) =>
        _nodes.Write("motd.yaml", $"manifest: motd\nresources:\n  - {{ id: motd, type: file, path: /motd, content: \"{text}\\n\" }}\n");

    private async Task<string> Keygen(string name)
    {
        var path = Path.Combine(_nodes.WorkDir, name + ".key");
        var made = await MeshCli.RunAsync(_nodes.WorkDir, "keygen", "--out", path, "--name", name, "--json");
        Assert.True(made.ExitCode == 0, made.ToString());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(PublicKey.Parse(path + ".pub", name).Spki, JsonDocument.Parse(made.Out).RootElement.GetProperty("spki").GetString());
        return path;
    }

    [Fact]
    public async Task Untrusted_unsigned_and_tampered_changes_are_refused_or_rejected_and_trusted_ones_apply_everywhere()
    {
        var alice = await Keygen("alice");
        var bob = await Keygen("bob");
        var aliceId = PublicKey.Parse(alice + ".pub", "alice").Id;
        var bobId = PublicKey.Parse(bob + ".pub", "bob").Id;
        string[] trustAlice = ["--trust", $"alice={alice}.pub"];

        // "open" has no trust list (a misconfigured or quick-start node); the others trust Alice only.
        var open = await Start("open", null, []);
        var joining = new[] { Start("strict1", open, trustAlice), Start("strict2", open, trustAlice) };
        var (strict1, strict2) = (await joining[0], await joining[1]);
        await ThreeNodeMesh.Until(async () => (await open.MembersAsync()).Count(m => m.Status == "up") == 3, "three members up");
        Assert.Contains("WARNING: no trusted signing keys", open.Log);
        Assert.Contains($"applies only changes signed by: alice ({aliceId})", strict1.Log);

        var good = await Cli(strict1, "--key", alice, "push", Motd("from alice"), "--wait");
        Assert.True(good.ExitCode == 0, good.ToString());
        foreach (var node in _nodes.Nodes) Assert.Equal("from alice\n", File.ReadAllText(node.RootPath("/motd")));

        // Unsigned, through the node that lets it in: rejected by every node that trusts only Alice.
        var unsigned = await Cli(open, "push", Motd("unsigned"), "--wait");
        Assert.Equal(1, unsigned.ExitCode);
        Assert.Contains("pushing unsigned", unsigned.Err);
        foreach (var name in new[] { "strict1", "strict2" })
            Assert.Contains($"failed: {name} (motd): rejected: unsigned", unsigned.Out);
        Assert.Contains("REJECTED strict2", unsigned.Out);

        var foreign = await Cli(open, "--key", bob, "push", Motd("from bob"), "--wait");
        Assert.Equal(1, foreign.ExitCode);
        Assert.Contains($"rejected: signed by unknown key {bobId}", foreign.Out);
        foreach (var node in new[] { strict1, strict2 }) Assert.Equal("from alice\n", File.ReadAllText(node.RootPath("/motd")));
        // strict2 heard of Bob's revision by the announcement; its replica of the index (which
        // status reads) may take a gossip round more to make it the head there too.
        await ThreeNodeMesh.Until(async () => (await Cli(strict2, "status", "--json")).Out.Contains("\"state\":\"rejected\"") ? "" : null,
            "strict2's status shows its rejection", TimeSpan.FromSeconds(30));

        // Straight to a node with a trust list: refused at the door, exit 6, nothing stored.
        var refused = await Cli(strict1, "push", Motd("unsigned again"));
        Assert.Equal(6, refused.ExitCode);
        Assert.Contains("not signed by a key this node trusts", refused.Err);

        // Alice's signature on other content: refused by any node, trust list or not.
        await AssertTamperedPushRefused(open, alice);

        // Back to Alice: applied everywhere again; history names the signers.
        var again = await Cli(strict2, "--key", alice, "push", Motd("alice again"), "--wait", "--force");
        Assert.True(again.ExitCode == 0, again.ToString());
        var history = await Cli(open, "history", "motd");
        Assert.Contains(aliceId, history.Out);
        Assert.Contains(bobId, history.Out);
        Assert.Contains("unsigned", history.Out);

        // Sealed secrets and signatures compose: the CLI seals, then signs the sealed text the nodes will hash.
        var secretFile = _nodes.Write("secret.yaml", "manifest: secret\nresources:\n  - { id: s, type: file, path: /secret, mode: \"0600\", content: !secret \"hunter2\" }\n");
        var secret = await Cli(open, "--key", alice, "push", secretFile, "--wait");
        Assert.True(secret.ExitCode == 0, secret.ToString());
        foreach (var node in _nodes.Nodes) Assert.Equal("hunter2", File.ReadAllText(node.RootPath("/secret")));

        // Deleting is a signed change too.
        var unsignedDelete = await Cli(strict1, "delete", "motd");
        Assert.Equal(6, unsignedDelete.ExitCode);
        var deleted = await Cli(strict1, "--key", alice, "delete", "motd", "-m", "retired");
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        await ThreeNodeMesh.Until(async () => !(await Cli(strict2, "list")).Out.Contains("motd"), "the deletion reaches strict2");
        Assert.Contains("(deleted)", (await Cli(strict2, "history", "motd")).Out);
        Assert.Equal(4, (await Cli(strict2, "get", "motd")).ExitCode);
        Assert.Equal("alice again\n", File.ReadAllText(strict2.RootPath("/motd")));
    }

    private async Task AssertTamperedPushRefused(NodeProcess via, string keyFile)
    {
        using var key = SigningKey.Load(keyFile);
        var signedText = File.ReadAllText(Motd("what alice signed"));
        var signatures = PushSignatures.Sign([PreparedManifest.Prepare(new ManifestFile("motd.yaml", signedText))], key);
        var tampered = new PushRequest([new ManifestFile("motd.yaml", signedText.Replace("what alice signed", "rm -rf"))], null, "mallory",
            Force: true, Signatures: signatures);
        using var http = new HttpClient { BaseAddress = new Uri($"http://{via.Api}/") };
        var response = await http.PostAsJsonAsync("v1/push", tampered, ApiJson.Options);
        Assert.Equal(403, (int)response.StatusCode);
        Assert.Contains("altered after signing", (await response.Content.ReadFromJsonAsync<ApiError>(ApiJson.Options))!.Error);
        Assert.DoesNotContain("rm -rf", (await Cli(via, "get", "motd")).Out);
    }

    private Task<NodeProcess> Start(string name, NodeProcess? seed, string[] extra) =>
        _nodes.StartAsync(name, seed: seed?.ClusterAddress, extraArgs: extra);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();
}
