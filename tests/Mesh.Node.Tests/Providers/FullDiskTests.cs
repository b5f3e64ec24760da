using Mesh.Node.Converge;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Providers;

/// <summary>A file applied onto a full disk: a clear failure, the old file intact, and applied by the next run once there is room.</summary>
public sealed class FullDiskTests
{
    private static Manifest App(string content) => ManifestParser.Parse($$"""
        manifest: app
        resources:
          - { id: conf, type: file, path: /etc/app.conf, content: "{{content}}" }
        """, "app.yaml");

    [SkippableFact]
    public void A_file_that_does_not_fit_fails_naming_it_keeps_the_old_one_and_is_applied_once_there_is_room()
    {
        Skip.If(SmallDisk.Unavailable is not null, SmallDisk.Unavailable);
        using var disk = new SmallDisk(256);
        Directory.CreateDirectory(disk["etc"]);
        var engine = ApplyEngine.Default();
        var context = new Mesh.Node.Providers.ApplyContext(disk.Path);
        Assert.Equal(ResourceAction.Created, engine.Run(App("old"), context, apply: true).Single().Action);
        var filler = disk.Fill();
        var bigger = new string('x', 64 * 1024);

        var failed = engine.Run(App(bigger), context, apply: true).Single();

        Assert.Equal(ResourceAction.Failed, failed.Action);
        Assert.Equal($"no space left on device writing {disk["etc/app.conf"]}", failed.Message);
        Assert.Equal("old", File.ReadAllText(disk["etc/app.conf"]));
        Assert.Equal(["app.conf"], Directory.GetFiles(disk["etc"]).Select(Path.GetFileName)); // no temporary left

        File.Delete(filler);
        Assert.Equal(ResourceAction.Changed, engine.Run(App(bigger), context, apply: true).Single().Action);
        Assert.Equal(bigger, File.ReadAllText(disk["etc/app.conf"]));
    }

    [SkippableFact]
    public void A_file_whose_backup_does_not_fit_is_not_replaced()
    {
        Skip.If(SmallDisk.Unavailable is not null, SmallDisk.Unavailable);
        using var disk = new SmallDisk(256);
        using var root = new TempDir();
        Directory.CreateDirectory(root["etc"]);
        var engine = ApplyEngine.Default();
        var context = new Mesh.Node.Providers.ApplyContext(root.Path) { BackupDir = disk["backups"] };
        engine.Run(App("old"), context, apply: true);
        disk.Fill();

        var failed = engine.Run(App("new"), context, apply: true).Single();

        Assert.Equal(ResourceAction.Failed, failed.Action);
        Assert.StartsWith($"no space left on device writing {disk["backups"]}/app/", failed.Message);
        Assert.EndsWith($"(the backup of {root["etc/app.conf"]})", failed.Message);
        Assert.Equal("old", File.ReadAllText(root["etc/app.conf"]));
    }
}
