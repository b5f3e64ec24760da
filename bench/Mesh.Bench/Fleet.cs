using System.Text;
using Mesh.EndToEnd.Tests;

namespace Mesh.Bench;

/// <summary>
/// The few manifests a mesh holds in the join and idle figures: what a small fleet might carry
/// (a message of the day, an application directory with its configuration, and one larger file
/// whose body travels in several chunks).
/// </summary>
public static class Fleet
{
    public static readonly (string Name, string Yaml)[] Manifests = [
        ("motd", """
            manifest: motd
            resources:
              - { id: etc, type: directory, path: /etc, mode: "0755" }
              - id: motd
                type: file
                path: /etc/motd
                mode: "0644"
                content: |
                  This host is configured by Mesh.
                requires: [etc]
            """),
        ("app", """
            manifest: app
            resources:
              - { id: srv, type: directory, path: /srv }
              - { id: app, type: directory, path: /srv/app, mode: "0750", requires: [srv] }
              - { id: conf, type: file, path: /srv/app/app.conf, mode: "0640", content: "listen = 0.0.0.0:8080\nworkers = 4\n", requires: [app] }
              - { id: env, type: file, path: /srv/app/env, content: "MODE=production\n", requires: [app] }
            """),
        ("data", DataManifest()),
    ];

    /// <summary>Every file the manifests manage, as paths under a node's root.</summary>
    public static readonly string[] Files = ["/etc/motd", "/srv/app/app.conf", "/srv/app/env", "/var-bench/table.txt"];

    /// <summary>A manifest of ~150 KB: its body moves peer to peer in three 64 KiB chunks.</summary>
    private static string DataManifest()
    {
        var s = new StringBuilder("""
            manifest: data
            resources:
              - { id: dir, type: directory, path: /var-bench }
              - id: table
                type: file
                path: /var-bench/table.txt
                requires: [dir]
                content: |

            """);
        for (var i = 0; i < 2500; i++) s.Append("      row ").Append(i.ToString("00000")).Append(" abcdefghijklmnopqrstuvwxyz0123456789ABCDEF\n");
        return s.ToString();
    }

    /// <summary>Pushes the manifests through the first node and waits until every node reports them ok.</summary>
    public static async Task PushAndWaitAsync(BenchMesh mesh, CancellationToken cancel)
    {
        foreach (var (name, yaml) in Manifests)
            await mesh.PushAsync(mesh.Nodes[0], name + ".yaml", yaml, "bench fleet", cancel);
        var nodes = mesh.Nodes.ToArray();
        try
        {
            await BenchMesh.Until(async () =>
            {
                foreach (var node in nodes)
                    if (!await AllOkAsync(node, node.Name)) return false;
                return true;
            }, "every node applied the fleet manifests", TimeSpan.FromSeconds(60), cancel);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n{await DescribeAsync(nodes)}", e);
        }
    }

    /// <summary>Each node's own rows that are not ok, with the last warnings of its log.</summary>
    private static async Task<string> DescribeAsync(NodeProcess[] nodes)
    {
        var s = new StringBuilder();
        foreach (var node in nodes)
        {
            try
            {
                var rows = (await node.StatusAsync()).Manifests.Where(r => r.Node == node.Name).ToArray();
                var missing = Manifests.Where(m => rows.All(r => r.Manifest != m.Name)).Select(m => m.Name);
                var notOk = rows.Where(r => r.State != "ok").Select(r => $"{r.Manifest}={r.State}{(r.Report?.Error is { } err ? $" ({err})" : "")}");
                var members = await node.MembersAsync();
                s.AppendLine($"{node.Name}: not ok: [{string.Join(", ", notOk.Concat(missing.Select(m => m + "=no row")))}]; sees {members.Count(m => m.Status == "up")} up of {members.Length}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                s.AppendLine($"{node.Name}: {e.Message}");
            }
        }
        foreach (var (line, count) in BenchMesh.CollectWarnings(nodes).Take(12)) s.AppendLine($"×{count} {line}");
        return s.ToString();
    }

    /// <summary>True when <paramref name="via"/> shows an ok report from <paramref name="node"/> for every fleet manifest.</summary>
    public static async Task<bool> AllOkAsync(NodeProcess via, string node)
    {
        var status = (await via.StatusAsync()).Manifests;
        return Manifests.All(m => status.Any(s => s.Node == node && s.Manifest == m.Name && s.State == "ok"));
    }

    public static bool FilesPresent(NodeProcess node) => Files.All(f => File.Exists(node.RootPath(f)));
}
