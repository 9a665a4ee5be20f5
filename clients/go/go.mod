module m3o.local/m3o

go 1.19
