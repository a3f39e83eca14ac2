-- A small music-store database in the style of the Chinook sample, for the barge demo
-- (scripts/demo.sh builds demo/out/chinook-like.sqlite from it with the sqlite3 shell).
--
-- It is generated with recursive CTEs so the repository keeps ~200 lines instead of a
-- binary file, and it is deterministic (no random()), so every run migrates the same rows.
-- It deliberately carries what a SQLite migration has to get right: CamelCase names,
-- INTEGER PRIMARY KEY rowid aliases, one AUTOINCREMENT (and so sqlite_sequence), a
-- composite key, a self-referencing FK, NUMERIC(10,2) money, DATETIME text, defaults,
-- CHECK constraints, NULLs, non-ASCII text, a unique and a partial index, a view, a trigger.

PRAGMA foreign_keys = ON;  -- so the generated rows are checked against their FKs

CREATE TABLE Genre (
    GenreId INTEGER PRIMARY KEY,
    Name    NVARCHAR(120)
);

CREATE TABLE MediaType (
    MediaTypeId INTEGER PRIMARY KEY,
    Name        NVARCHAR(120)
);

CREATE TABLE Artist (
    ArtistId INTEGER PRIMARY KEY AUTOINCREMENT,
    Name     NVARCHAR(120)
);

CREATE TABLE Album (
    AlbumId  INTEGER PRIMARY KEY,
    Title    NVARCHAR(160) NOT NULL,
    ArtistId INTEGER NOT NULL REFERENCES Artist (ArtistId)
);

CREATE TABLE Track (
    TrackId      INTEGER PRIMARY KEY,
    Name         NVARCHAR(200) NOT NULL,
    AlbumId      INTEGER REFERENCES Album (AlbumId),
    MediaTypeId  INTEGER NOT NULL REFERENCES MediaType (MediaTypeId),
    GenreId      INTEGER REFERENCES Genre (GenreId),
    Composer     NVARCHAR(220),
    Milliseconds INTEGER NOT NULL CHECK (Milliseconds > 0),
    Bytes        INTEGER,
    UnitPrice    NUMERIC(10,2) NOT NULL DEFAULT 0.99
);

CREATE TABLE Employee (
    EmployeeId INTEGER PRIMARY KEY,
    LastName   NVARCHAR(20) NOT NULL,
    FirstName  NVARCHAR(20) NOT NULL,
    Title      NVARCHAR(30),
    ReportsTo  INTEGER REFERENCES Employee (EmployeeId),
    BirthDate  DATETIME,
    HireDate   DATETIME,
    City       NVARCHAR(40),
    Country    NVARCHAR(40),
    Email      NVARCHAR(60)
);

CREATE TABLE Customer (
    CustomerId   INTEGER PRIMARY KEY,
    FirstName    NVARCHAR(40) NOT NULL,
    LastName     NVARCHAR(20) NOT NULL,
    Company      NVARCHAR(80),
    City         NVARCHAR(40),
    Country      NVARCHAR(40),
    Email        NVARCHAR(60) NOT NULL,
    SupportRepId INTEGER REFERENCES Employee (EmployeeId)
);

CREATE TABLE Invoice (
    InvoiceId      INTEGER PRIMARY KEY,
    CustomerId     INTEGER NOT NULL REFERENCES Customer (CustomerId),
    InvoiceDate    DATETIME NOT NULL,
    BillingCity    NVARCHAR(40),
    BillingCountry NVARCHAR(40),
    Total          NUMERIC(10,2) NOT NULL DEFAULT 0
);

CREATE TABLE InvoiceLine (
    InvoiceLineId INTEGER PRIMARY KEY,
    InvoiceId     INTEGER NOT NULL REFERENCES Invoice (InvoiceId),
    TrackId       INTEGER NOT NULL REFERENCES Track (TrackId),
    UnitPrice     NUMERIC(10,2) NOT NULL,
    Quantity      INTEGER NOT NULL DEFAULT 1 CHECK (Quantity > 0)
);

CREATE TABLE Playlist (
    PlaylistId INTEGER PRIMARY KEY,
    Name       NVARCHAR(120)
);

CREATE TABLE PlaylistTrack (
    PlaylistId INTEGER NOT NULL REFERENCES Playlist (PlaylistId),
    TrackId    INTEGER NOT NULL REFERENCES Track (TrackId),
    PRIMARY KEY (PlaylistId, TrackId)
);

-- Chinook's FK indexes, plus a unique and a partial one.
CREATE INDEX IFK_AlbumArtistId ON Album (ArtistId);
CREATE INDEX IFK_TrackAlbumId ON Track (AlbumId);
CREATE INDEX IFK_TrackGenreId ON Track (GenreId);
CREATE INDEX IFK_InvoiceCustomerId ON Invoice (CustomerId);
CREATE INDEX IFK_InvoiceLineInvoiceId ON InvoiceLine (InvoiceId);
CREATE INDEX IFK_EmployeeReportsTo ON Employee (ReportsTo);
CREATE UNIQUE INDEX UX_CustomerEmail ON Customer (Email);
CREATE INDEX IX_TrackComposer ON Track (Composer) WHERE Composer IS NOT NULL;

-- Keeps Invoice.Total equal to the sum of its lines; round() because SQLite adds doubles.
CREATE TRIGGER InvoiceLineTotal AFTER INSERT ON InvoiceLine
BEGIN
    UPDATE Invoice
       SET Total = round(Total + NEW.UnitPrice * NEW.Quantity, 2)
     WHERE InvoiceId = NEW.InvoiceId;
END;

CREATE VIEW AlbumSales AS
SELECT al.AlbumId, al.Title, ar.Name AS Artist,
       count(il.InvoiceLineId) AS LinesSold,
       round(coalesce(sum(il.UnitPrice * il.Quantity), 0), 2) AS Revenue
  FROM Album al
  JOIN Artist ar ON ar.ArtistId = al.ArtistId
  LEFT JOIN Track t ON t.AlbumId = al.AlbumId
  LEFT JOIN InvoiceLine il ON il.TrackId = t.TrackId
 GROUP BY al.AlbumId, al.Title, ar.Name;

-- ------------------------------------------------------------------ rows

BEGIN;

INSERT INTO MediaType (MediaTypeId, Name) VALUES
    (1, 'MPEG audio file'), (2, 'Protected AAC audio file'), (3, 'Protected MPEG-4 video file'),
    (4, 'Purchased AAC audio file'), (5, 'AAC audio file');

INSERT INTO Genre (GenreId, Name)
SELECT key + 1, value FROM json_each(
    '["Rock","Jazz","Metal","Alternative & Punk","Rock And Roll","Blues","Latin","Reggae",
      "Pop","Soundtrack","Bossa Nova","Easy Listening","Heavy Metal","R&B/Soul",
      "Electronica/Dance","World","Hip Hop/Rap","Classical","Opera","Comedy"]');

-- 40 artists: a few real-looking names with accents and quotes, then combined ones.
INSERT INTO Artist (Name)
SELECT value FROM json_each(
    '["AC/DC","Accept","Aerosmith","Antônio Carlos Jobim","Björk","Mötley Crüe",
      "Sigur Rós","坂本龍一","Guns N'' Roses","O''Rappa"]');
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 29)
INSERT INTO Artist (Name)
SELECT json_extract('["The Velvet","Iron","Electric","Midnight","Crimson","Silver"]',
                    '$[' || (i % 6) || ']')
       || ' ' ||
       json_extract('["Owls","Harbour","Machines","Orchestra","Trio"]', '$[' || (i / 6) || ']')
  FROM n;

-- 100 albums, 2-3 per artist.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
INSERT INTO Album (AlbumId, Title, ArtistId)
SELECT i,
       json_extract('["Greatest Hits","Live at the Roxy","Unplugged","First Light","Blue Hour",
                      "Night Drive","Acoustic Sessions","Second Wind"]', '$[' || (i % 8) || ']')
       || CASE WHEN i > 8 THEN ' Vol. ' || (i / 8) ELSE '' END,
       1 + (i * 7) % 40
  FROM n;

-- 400 tracks; every 7th has no composer, every 50th no album, prices 0.99 or 1.99.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
INSERT INTO Track (TrackId, Name, AlbumId, MediaTypeId, GenreId, Composer, Milliseconds, Bytes, UnitPrice)
SELECT i,
       json_extract('["Intro","Highway","Rain","Paper Moon","Echoes","Café Noir","Firewall",
                      "Northern Lights","Stay","Überfall","Gravity"]', '$[' || (i % 11) || ']')
       || ' ' || i,
       CASE WHEN i % 50 = 0 THEN NULL ELSE 1 + (i - 1) / 4 END,
       1 + (i % 5),
       1 + (i * 3) % 20,
       CASE WHEN i % 7 = 0 THEN NULL
            ELSE json_extract('["A. Young","M. Jagger, K. Richards","J. Page","Tom Jobim",
                               "Ryuichi Sakamoto"]', '$[' || (i % 5) || ']') END,
       150000 + (i * 7919) % 300000,
       3000000 + (i * 104729) % 9000000,
       CASE WHEN i % 5 = 4 THEN 1.99 ELSE 0.99 END
  FROM n;

-- Employees: the general manager reports to nobody, managers to him, agents to managers.
INSERT INTO Employee (EmployeeId, LastName, FirstName, Title, ReportsTo, BirthDate, HireDate, City, Country, Email) VALUES
    (1, 'Adams', 'Andrew', 'General Manager', NULL, '1962-02-18 00:00:00', '2002-08-14 00:00:00', 'Edmonton', 'Canada', 'andrew@chinookcorp.com'),
    (2, 'Edwards', 'Nancy', 'Sales Manager', 1, '1958-12-08 00:00:00', '2002-05-01 00:00:00', 'Calgary', 'Canada', 'nancy@chinookcorp.com'),
    (6, 'Mitchell', 'Michael', 'IT Manager', 1, '1973-07-01 00:00:00', '2003-10-17 00:00:00', 'Calgary', 'Canada', 'michael@chinookcorp.com'),
    (3, 'Peacock', 'Jane', 'Sales Support Agent', 2, '1973-08-29 00:00:00', '2002-04-01 00:00:00', 'Calgary', 'Canada', 'jane@chinookcorp.com'),
    (4, 'Park', 'Margaret', 'Sales Support Agent', 2, '1947-09-19 00:00:00', '2003-05-03 00:00:00', 'Calgary', 'Canada', 'margaret@chinookcorp.com'),
    (5, 'Johnson', 'Steve', 'Sales Support Agent', 2, '1965-03-03 00:00:00', '2003-10-17 00:00:00', 'Calgary', 'Canada', NULL),
    (7, 'King', 'Robert', 'IT Staff', 6, '1970-05-29 00:00:00', '2004-01-02 00:00:00', 'Lethbridge', 'Canada', 'robert@chinookcorp.com'),
    (8, 'Callahan', 'Laura', 'IT Staff', 6, '1968-01-09 00:00:00', '2004-03-04 00:00:00', 'Lethbridge', 'Canada', 'laura@chinookcorp.com');

-- 60 customers, each looked after by one of the three support agents.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60),
place(k, city, country) AS (
    SELECT key, json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(
        '[["São Paulo","Brazil"],["Montréal","Canada"],["Oslo","Norway"],["Praha","Czech Republic"],
          ["Berlin","Germany"],["Paris","France"],["Kraków","Poland"],["Bangalore","India"],
          ["Santiago","Chile"],["Sydney","Australia"],["Boston","USA"],["Dublin","Ireland"]]'))
INSERT INTO Customer (CustomerId, FirstName, LastName, Company, City, Country, Email, SupportRepId)
SELECT i,
       json_extract('["Luís","Leonie","François","Bjørn","František","Helena","Astrid","Daan",
                      "Kara","Eduardo","Alexandre","Roberto"]', '$[' || (i % 12) || ']'),
       json_extract('["Gonçalves","Köhler","Tremblay","Hansen","Wichterlová","Holý","Schneider",
                      "Peeters","Nielsen","Martins","Rocha","Almeida","O''Reilly"]', '$[' || (i % 13) || ']'),
       CASE WHEN i % 4 = 0 THEN 'Company ' || i ELSE NULL END,
       place.city, place.country,
       'customer' || i || '@example.com',
       3 + i % 3
  FROM n JOIN place ON place.k = i % 12;

-- 200 invoices spread over 2021-2024, Total filled in by the trigger.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
INSERT INTO Invoice (InvoiceId, CustomerId, InvoiceDate, BillingCity, BillingCountry)
SELECT i, c.CustomerId, datetime('2021-01-01', '+' || (i * 7) || ' days', '+' || (i % 24) || ' hours'),
       c.City, c.Country
  FROM n JOIN Customer c ON c.CustomerId = 1 + (i * 13) % 60;

-- 1 to 4 lines per invoice (500 lines), at the track's price.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200),
line(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM line WHERE k < 3)
INSERT INTO InvoiceLine (InvoiceId, TrackId, UnitPrice, Quantity)
SELECT n.i, t.TrackId, t.UnitPrice, 1 + (n.i + line.k) % 3 / 2
  FROM n JOIN line ON line.k < 1 + (n.i * 3) % 4
  JOIN Track t ON t.TrackId = 1 + (n.i * 37 + line.k * 101) % 400
 ORDER BY n.i, line.k;

INSERT INTO Playlist (PlaylistId, Name) VALUES
    (1, 'Music'), (2, 'Movies'), (3, 'Classical'), (4, '90’s Music'), (5, 'Empty playlist');

INSERT INTO PlaylistTrack (PlaylistId, TrackId)
SELECT 1 + TrackId % 4, TrackId FROM Track WHERE TrackId % 3 <> 0;

COMMIT;
