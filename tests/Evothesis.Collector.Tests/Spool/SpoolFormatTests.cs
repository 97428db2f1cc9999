using Evothesis.Collector.Spool.Internal;

namespace Evothesis.Collector.Tests.Spool;

public class SpoolFormatTests
{
    [Test]
    public void Checksum_StandardCheckInput_IsCrc32C()
    {
        SpoolFormat.Checksum("123456789"u8).Should().Be(0xE3069283, "the CRC-32C (Castagnoli) check value");
    }

    [Test]
    public void SealFrame_AnyFlippedBit_FailsTheChecksum()
    {
        var frame = new byte[SpoolFormat.FrameHeaderSize + 12];
        "twelve bytes"u8.CopyTo(frame.AsSpan(SpoolFormat.FrameHeaderSize));
        SpoolFormat.SealFrame(frame, continued: true, 1_764_158_400_000);
        SpoolFormat.IsIntact(frame).Should().BeTrue();

        for (var bit = 0; bit < frame.Length * 8; bit++)
        {
            frame[bit / 8] ^= (byte)(1 << (bit % 8));
            SpoolFormat.IsIntact(frame).Should().BeFalse("bit {0} was flipped", bit);
            frame[bit / 8] ^= (byte)(1 << (bit % 8));
        }
    }

    [Test]
    public void ReadFrameHeader_SealedFrame_ReturnsLengthFlagAndTime()
    {
        var frame = new byte[SpoolFormat.FrameHeaderSize + 3];
        SpoolFormat.SealFrame(frame, continued: true, 42);

        var header = SpoolFormat.ReadFrameHeader(frame);

        header.PayloadLength.Should().Be(3);
        header.Continued.Should().BeTrue();
        header.AppendedAtMilliseconds.Should().Be(42);
        header.FrameLength.Should().Be(frame.Length);
    }

    [Test]
    public void IsIntact_AllZeroFrame_IsFalse()
    {
        SpoolFormat.IsIntact(new byte[SpoolFormat.FrameHeaderSize]).Should().BeFalse("a zero-filled tail must not read as a record");
    }

    [Test]
    public void SegmentFileName_RoundTripsTheBasePosition()
    {
        var name = SpoolFormat.SegmentFileName(1234567);

        name.Should().Be("00000000000001234567.seg");
        SpoolFormat.TryParseSegmentFileName(name, out var basePosition).Should().BeTrue();
        basePosition.Should().Be(1234567);
        SpoolFormat.TryParseSegmentFileName("1234567.seg", out _).Should().BeFalse();
        SpoolFormat.TryParseSegmentFileName("0000000000000000000x.seg", out _).Should().BeFalse();
    }

    [Test]
    public void TryReadCheckpoint_WrittenCheckpoint_RoundTripsAndRejectsDamage()
    {
        var content = new byte[SpoolFormat.CheckpointSize];
        SpoolFormat.WriteCheckpoint(content, 987_654_321);

        SpoolFormat.TryReadCheckpoint(content, out var position).Should().BeTrue();
        position.Should().Be(987_654_321);
        content[9] ^= 1;
        SpoolFormat.TryReadCheckpoint(content, out _).Should().BeFalse();
        SpoolFormat.TryReadCheckpoint(content.AsSpan(0, 10), out _).Should().BeFalse();
    }
}
