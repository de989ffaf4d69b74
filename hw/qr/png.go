package qr

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sync"
)

// MaxPNGSide bounds PNG's image, in pixels per side.
const MaxPNGSide = 1 << 14

// PNG draws s as a 1-bit grayscale PNG (black modules on white), each
// module scale×scale pixels, with a quiet zone of quiet modules on every
// side (4 is what ISO/IEC 18004 asks for).
//
// The file is written here, not by image/png: an IHDR for bit depth 1 and
// colour type 0 (grayscale, 1 is white), one IDAT of zlib-compressed rows
// (filter byte 0, then the pixels eight to a byte, most significant bit
// first), and IEND; each chunk with its CRC-32 over type and data (PNG
// specification, ISO/IEC 15948, sections 5.3, 11.2.2 and 7.2). A module
// row is drawn once and repeated scale times.
func PNG(s Symbol, scale, quiet int) ([]byte, error) {
	if scale < 1 || quiet < 0 {
		return nil, fmt.Errorf("qr: PNG scale %d or quiet zone %d out of range", scale, quiet)
	}
	modules := s.Size() + 2*quiet
	side := modules * scale
	if s.Size() == 0 || side > MaxPNGSide {
		return nil, fmt.Errorf("qr: a PNG of %d modules at %d pixels each is out of range", modules, scale)
	}
	rowBytes := 1 + (side+7)/8
	raw := make([]byte, rowBytes*side)
	blank := make([]byte, rowBytes) // a quiet-zone row: filter 0, all white
	for i := 1; i < rowBytes; i++ {
		blank[i] = 0xff
	}
	y := 0
	for range quiet * scale {
		copy(raw[y*rowBytes:], blank)
		y++
	}
	for _, mrow := range s.modules {
		row := raw[y*rowBytes : (y+1)*rowBytes]
		copy(row, blank)
		for x, dark := range mrow {
			if !dark {
				continue
			}
			for px := (quiet + x) * scale; px < (quiet+x+1)*scale; px++ {
				row[1+px/8] &^= 0x80 >> (px % 8)
			}
		}
		y++
		for range scale - 1 {
			copy(raw[y*rowBytes:], row)
			y++
		}
	}
	for range quiet * scale {
		copy(raw[y*rowBytes:], blank)
		y++
	}

	var out bytes.Buffer
	out.Grow(len(raw)/8 + 128)
	out.WriteString("\x89PNG\r\n\x1a\n")
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(side))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(side))
	ihdr[8] = 1 // bit depth
	ihdr[9] = 0 // colour type: grayscale
	// compression, filter and interlace methods 0: deflate, adaptive
	// (each row says its filter), none.
	writeChunk(&out, "IHDR", ihdr[:])

	var z bytes.Buffer
	zw := zlibWriters.Get().(*zlib.Writer)
	zw.Reset(&z)
	_, err := zw.Write(raw)
	if err == nil {
		err = zw.Close()
	}
	zlibWriters.Put(zw)
	if err != nil {
		return nil, fmt.Errorf("qr: compressing the PNG: %w", err)
	}
	writeChunk(&out, "IDAT", z.Bytes())
	writeChunk(&out, "IEND", nil)
	return out.Bytes(), nil
}

// zlibWriters keeps compressors between images: a new one allocates its
// tables, which would cost more than compressing a QR code.
var zlibWriters = sync.Pool{New: func() any {
	// BestSpeed: a QR image is long runs of equal bytes, which the
	// fastest level compresses nearly as well as the best.
	zw, _ := zlib.NewWriterLevel(nil, zlib.BestSpeed)
	return zw
}}

func writeChunk(out *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	out.Write(n[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	out.WriteString(typ)
	out.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	out.Write(n[:])
}
