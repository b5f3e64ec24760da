using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Mesh.Protocol.Secrets;

namespace Mesh.Protocol.Tests;

/// <summary>
/// An envelope opens for each of its recipients and for nobody else, and any change to it, or
/// moving it to another manifest, makes it fail to open.
/// </summary>
public sealed class SecretBoxTests : IDisposable
{
    private readonly ECDiffieHellman _a = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDiffieHellman _b = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDiffieHellman _c = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);

    private static byte[] Public(ECDiffieHellman key) => key.ExportSubjectPublicKeyInfo();

    private string SealForAAndB(string value, string context = "web") =>
        SecretBox.Seal(Encoding.UTF8.GetBytes(value), [Public(_a), Public(_b)], context);

    [Fact]
    public void Every_recipient_opens_the_same_value()
    {
        var envelope = SealForAAndB("hunter2 ✓\nsecond line");

        Assert.StartsWith(SecretBox.Prefix, envelope);
        Assert.DoesNotContain("hunter2", envelope);
        Assert.Equal("hunter2 ✓\nsecond line", Encoding.UTF8.GetString(SecretBox.Open(envelope, _a, "web")));
        Assert.Equal("hunter2 ✓\nsecond line", Encoding.UTF8.GetString(SecretBox.Open(envelope, _b, "web")));
        Assert.Equal([SecretBox.KeyIdText(Public(_a)), SecretBox.KeyIdText(Public(_b))], SecretBox.Recipients(envelope));
    }

    [Fact]
    public void Sealing_the_same_value_twice_gives_different_envelopes()
    {
        Assert.NotEqual(SealForAAndB("hunter2"), SealForAAndB("hunter2"));
    }

    [Fact]
    public void A_node_that_is_not_a_recipient_cannot_open_it()
    {
        var envelope = SealForAAndB("hunter2");

        var e = Assert.Throws<SecretException>(() => SecretBox.Open(envelope, _c, "web"));

        Assert.Equal(SecretFailure.NotARecipient, e.Failure);
        Assert.Contains(SecretBox.KeyIdText(Public(_c)), e.Message);
    }

    [Fact]
    public void An_envelope_moved_to_another_manifest_does_not_open()
    {
        var envelope = SealForAAndB("hunter2", context: "web");

        Assert.Equal(SecretFailure.Damaged, Assert.Throws<SecretException>(() => SecretBox.Open(envelope, _a, "db")).Failure);
    }

    [Theory]
    [InlineData(3 + 8 + 10)]          // the ephemeral key of a's slot
    [InlineData(3 + 8 + 65 + 5)]      // a's wrapped content key
    [InlineData(-20)]                 // the ciphertext of the value
    [InlineData(-1)]                  // the tag of the value
    public void Any_altered_byte_makes_opening_fail(int offset)
    {
        var bytes = Base64Url.DecodeFromChars(SealForAAndB("hunter2").AsSpan(SecretBox.Prefix.Length));
        var at = offset >= 0 ? offset : bytes.Length + offset;
        bytes[at] ^= 0x01;
        var altered = SecretBox.Prefix + Base64Url.EncodeToString(bytes);

        var e = Assert.Throws<SecretException>(() => SecretBox.Open(altered, _a, "web"));

        Assert.Equal(SecretFailure.Damaged, e.Failure);
    }

    [Fact]
    public void A_slot_whose_key_id_is_altered_no_longer_addresses_its_recipient()
    {
        var bytes = Base64Url.DecodeFromChars(SealForAAndB("hunter2").AsSpan(SecretBox.Prefix.Length));
        bytes[3] ^= 0x01; // a's key id

        var altered = SecretBox.Prefix + Base64Url.EncodeToString(bytes);

        Assert.Equal(SecretFailure.NotARecipient, Assert.Throws<SecretException>(() => SecretBox.Open(altered, _a, "web")).Failure);
        Assert.Equal("hunter2", Encoding.UTF8.GetString(SecretBox.Open(altered, _b, "web")));
    }

    [Theory]
    [InlineData("mesh-sealed:v1:", "is empty")]
    [InlineData("mesh-sealed:v1:!!!", "not base64url")]
    [InlineData("mesh-sealed:v1:AgAB", "version 2")]
    [InlineData("mesh-sealed:v1:AQAB", "cut short")]
    [InlineData("sealed:AQAB", "does not begin with")]
    public void A_malformed_envelope_says_what_is_wrong(string envelope, string says)
    {
        Assert.Contains(says, SecretBox.Problem(envelope));
        var e = Assert.Throws<SecretException>(() => SecretBox.Open(envelope, _a, "web"));
        Assert.Equal(SecretFailure.Malformed, e.Failure);
    }

    [Fact]
    public void Only_p256_keys_are_recipients()
    {
        using var other = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP384);

        Assert.Throws<ArgumentException>(() => SecretBox.Seal("x"u8, [other.ExportSubjectPublicKeyInfo()], "web"));
        Assert.Throws<ArgumentException>(() => SecretBox.Seal("x"u8, [[1, 2, 3]], "web"));
        Assert.Throws<ArgumentException>(() => SecretBox.Seal("x"u8, [], "web"));
    }

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
        _c.Dispose();
    }
}
