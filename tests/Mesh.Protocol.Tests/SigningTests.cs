using Mesh.Protocol.Signing;

namespace Mesh.Protocol.Tests;

public sealed class SigningTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mesh-keys-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_saved_key_is_private_to_its_owner_and_loads_back_with_the_same_id()
    {
        var path = Path.Combine(_dir, "ops.key");
        using var key = SigningKey.Generate();
        key.Save(path, overwrite: false);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        using var loaded = SigningKey.Load(path);
        Assert.Equal(key.Public, loaded.Public);
        Assert.Equal(key.Public, PublicKey.Parse(path + ".pub", "test"));
        Assert.Equal(key.Public, PublicKey.Parse(File.ReadAllText(path + ".pub"), "test"));
        Assert.Equal(key.Public, PublicKey.Parse(key.Public.Spki, "test"));
        Assert.Matches("^[0-9a-f]{16}$", key.Public.Id);
    }

    [Fact]
    public void An_existing_key_is_not_overwritten_without_asking()
    {
        var path = Path.Combine(_dir, "ops.key");
        using var key = SigningKey.Generate();
        key.Save(path, overwrite: false);
        var e = Assert.Throws<SigningException>(() => key.Save(path, overwrite: false));
        Assert.Contains("already exists", e.Message);
    }

    [Fact]
    public void A_key_file_others_can_read_is_refused()
    {
        var path = Path.Combine(_dir, "ops.key");
        using var key = SigningKey.Generate();
        key.Save(path, overwrite: false);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var e = Assert.Throws<SigningException>(() => SigningKey.Load(path));
        Assert.Contains("readable by others", e.Message);
    }

    [Fact]
    public void Garbage_is_not_a_key()
    {
        var path = Path.Combine(_dir, "bad.key");
        File.WriteAllText(path, "hello");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Contains("not a PEM private key", Assert.Throws<SigningException>(() => SigningKey.Load(path)).Message);
        Assert.Contains("trusted-keys.x", Assert.Throws<SigningException>(() => PublicKey.Parse("AAAA" + new string('B', 60), "trusted-keys.x")).Message);
        Assert.Contains("nowhere.pub", Assert.Throws<SigningException>(() => PublicKey.Parse(Path.Combine(_dir, "nowhere.pub"), "k")).Message);
    }

    [Fact]
    public void A_trust_list_accepts_its_signers_and_names_why_it_refuses_anything_else()
    {
        using var alice = SigningKey.Generate();
        using var mallory = SigningKey.Generate();
        var trust = new TrustList([("alice", alice.Public)]);
        var statement = RevisionSignature.ContentStatement("web", new string('a', 64));
        var other = RevisionSignature.ContentStatement("web", new string('b', 64));

        Assert.Null(trust.Refusal(RevisionSignature.Make(alice, statement), statement));
        Assert.Equal("alice", trust.NameOf(alice.Public.Id));
        Assert.StartsWith("unsigned", trust.Refusal(null, statement));
        Assert.Contains($"unknown key {mallory.Public.Id}", trust.Refusal(RevisionSignature.Make(mallory, statement), statement));
        Assert.Contains("altered after signing", trust.Refusal(RevisionSignature.Make(alice, other), statement));
        // Mallory's key under Alice's id is caught even though the signature itself verifies.
        var impostor = RevisionSignature.Make(mallory, statement) with { KeyId = alice.Public.Id };
        Assert.NotNull(trust.Refusal(impostor, statement));
    }

    [Fact]
    public void Without_a_trust_list_unsigned_changes_pass_but_a_broken_signature_does_not()
    {
        using var anyone = SigningKey.Generate();
        var statement = RevisionSignature.ContentStatement("web", new string('a', 64));
        Assert.False(TrustList.Empty.Enforced);
        Assert.Null(TrustList.Empty.Refusal(null, statement));
        Assert.Null(TrustList.Empty.Refusal(RevisionSignature.Make(anyone, statement), statement));
        var forged = RevisionSignature.Make(anyone, RevisionSignature.ContentStatement("web", new string('c', 64)));
        Assert.Contains("altered after signing", TrustList.Empty.Refusal(forged, statement));
        Assert.NotNull(TrustList.Empty.Refusal(forged with { Signature = "not base64!" }, statement));
    }

    [Fact]
    public void Content_and_deletion_statements_never_collide()
    {
        Assert.NotEqual(RevisionSignature.ContentStatement("m", "x"), RevisionSignature.DeletionStatement("m", "x"));
    }
}
