using System.Text;
using Mesh.Node.Content;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Manifests;

namespace Mesh.Node.Tests.Content;

/// <summary>The blob store on a damaged or full disk: nothing torn is served, nothing half-written is left under a final name.</summary>
public sealed class ContentStoreTests
{
    [Fact]
    public void A_blob_that_no_longer_matches_its_hash_reads_as_absent_and_is_set_aside()
    {
        using var dir = new TempDir();
        var warnings = new List<string>();
        var store = new ContentStore(dir.Path, warnings.Add);
        var hash = store.Put(Encoding.UTF8.GetBytes("the real content\n"));
        File.WriteAllText(dir[$"blobs/{hash}"], "the real con"); // torn

        Assert.Null(store.Get(hash));

        Assert.False(store.Contains(hash));
        var aside = Assert.Single(Directory.GetFiles(dir["blobs"], $".{hash}.corrupt-*"));
        Assert.Equal("the real con", File.ReadAllText(aside));
        Assert.Contains(hash[..12], Assert.Single(warnings));
        // A fetch puts the right bytes back under the name.
        store.PutVerified(hash, Encoding.UTF8.GetBytes("the real content\n"));
        Assert.Equal("the real content\n", Encoding.UTF8.GetString(store.Get(hash)!));
    }

    [SkippableFact]
    public void A_blob_stored_on_a_full_disk_is_refused_naming_the_file_and_leaves_nothing_behind()
    {
        Skip.If(SmallDisk.Unavailable is not null, SmallDisk.Unavailable);
        using var disk = new SmallDisk(1024);
        var store = new ContentStore(disk.Path);
        var kept = store.Put(Encoding.UTF8.GetBytes("stored before the disk filled\n"));
        var filler = disk.Fill();
        var body = new byte[64 * 1024];
        Random.Shared.NextBytes(body);
        var hash = CanonicalForm.Hash(body);

        var full = Assert.Throws<DiskFullException>(() => store.Put(body));

        Assert.StartsWith($"no space left on device writing {disk[$"blobs/{hash}"]} (", full.Message);
        Assert.Contains($"kept for the node's state", full.Message);
        Assert.Equal([kept], Directory.GetFiles(disk["blobs"]).Select(Path.GetFileName));

        // The write itself refuses what the room check lets through (another writer took the space meanwhile).
        var written = Assert.Throws<DiskFullException>(() => new ContentStore(disk.Path, reserve: 0).Put(body));
        Assert.Equal($"no space left on device writing {disk[$"blobs/{hash}"]}", written.Message);
        Assert.Equal([kept], Directory.GetFiles(disk["blobs"]).Select(Path.GetFileName));

        File.Delete(filler);
        store.PutVerified(hash, body);
        Assert.Equal(body, store.Get(hash));
    }
}
