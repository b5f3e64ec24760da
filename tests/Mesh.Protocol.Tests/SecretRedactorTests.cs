using Mesh.Protocol.Secrets;
using Mesh.Protocol.Wire;

namespace Mesh.Protocol.Tests;

/// <summary>What leaves an apply that used secrets: no secret, whole or in part, and no detail of a resource that used one.</summary>
public sealed class SecretRedactorTests
{
    [Fact]
    public void A_secret_is_replaced_wherever_it_appears()
    {
        var redactor = new SecretRedactor(["hunter2"]);

        Assert.Equal("password [secret] rejected, [secret]!", redactor.Redact("password hunter2 rejected, hunter2!"));
        Assert.Equal("nothing here", redactor.Redact("nothing here"));
        Assert.Null(redactor.Redact(null));
    }

    [Fact]
    public void A_long_secret_is_caught_even_when_cut_short_or_partly_quoted()
    {
        var redactor = new SecretRedactor(["curl -H 'Authorization: Bearer 9f8e7d6c5b4a39281706' https://api.example"]);

        Assert.Equal("ran [secret] …", redactor.Redact("ran curl -H 'Authorization: Bearer 9f8e7d6c5b4a …"));
        Assert.Equal("token=[secret] ok", redactor.Redact("token=9f8e7d6c5b4a39281706 ok"));
    }

    [Fact]
    public void Blank_runs_of_a_secret_do_not_blank_out_unrelated_text()
    {
        var redactor = new SecretRedactor(["key:\n        value-of-the-key"]);

        Assert.Equal("a        b", redactor.Redact("a        b"));
    }

    [Fact]
    public void Resources_that_used_a_secret_lose_their_detail_and_others_lose_the_secret()
    {
        var opened = new OpenedManifest(null!, new HashSet<string> { "conf" }, new SecretRedactor(["hunter2"]));
        ResourceResult[] results =
        [
            new("conf", "file", ResourceAction.Changed, "changed /etc/db.conf", 1, "--- a\n+++ b\n+password = hunter2\n"),
            new("show", "exec", ResourceAction.Changed, "ran cat /etc/db.conf", 1, "password = hunter2"),
            new("quiet", "exec", ResourceAction.Unchanged, "skipped", 1),
        ];

        var redacted = opened.Redact(results);

        Assert.Equal(OpenedManifest.Withheld, redacted[0].Detail);
        Assert.Equal("changed /etc/db.conf", redacted[0].Message);
        Assert.Equal("password = [secret]", redacted[1].Detail);
        Assert.Null(redacted[2].Detail);
    }
}
