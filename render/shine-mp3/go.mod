module github.com/braheezy/shine-mp3

go 1.26
